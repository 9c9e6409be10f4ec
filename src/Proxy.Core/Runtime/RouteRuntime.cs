using Proxy.Observability;
using Proxy.Routing;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// What a matched route does, in runtime form: its clusters (in the order of
/// <see cref="Route.Clusters"/>, so a split pick indexes both), its timeout and its metrics.
/// </summary>
public sealed class RouteRuntime(Route route, Cluster[] clusters, TimeSpan? timeout, RouteMetrics[] metrics)
{
    public Route Route { get; } = route;

    public Cluster[] Clusters { get; } = clusters;

    /// <summary>Time allowed from the request head being sent until the response head arrives; null = none.</summary>
    public TimeSpan? Timeout { get; } = timeout;

    /// <summary>Per cluster of <see cref="Clusters"/>.</summary>
    public RouteMetrics[] Metrics { get; } = metrics;
}
