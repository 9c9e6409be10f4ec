using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// What a matched route does, in runtime form: its clusters (in the order of
/// <see cref="Route.Clusters"/>, so a split pick indexes both), its timeout, policies and metrics.
/// </summary>
public sealed class RouteRuntime(Route route, Cluster[] clusters, TimeSpan? timeout, RouteMetrics[] metrics)
{
    public Route Route { get; } = route;

    public Cluster[] Clusters { get; } = clusters;

    /// <summary>Time allowed from the request head being sent until the response head arrives; null = none.</summary>
    public TimeSpan? Timeout { get; } = timeout;

    /// <summary>Per cluster of <see cref="Clusters"/>.</summary>
    public RouteMetrics[] Metrics { get; } = metrics;

    public RetryPolicy? Retry { get; init; }

    public RetryBudget? Budget { get; init; }

    public TokenBucket? RateLimit { get; init; }

    public FaultInjector? Fault { get; init; }

    /// <summary>Header conditions of the fault; all must match (none = every request is eligible).</summary>
    internal HeaderMatcher[] FaultHeaders { get; init; } = [];

    public MirrorPolicy? Mirror { get; init; }

    public Cluster? MirrorCluster { get; init; }

    public ResilienceCounters Counters { get; init; } = ResilienceCounters.Detached;

    /// <summary>
    /// The redirect or direct response the route answers with, after the filters, instead of forwarding; null for a
    /// route that forwards. Such a route has no clusters and one entry in <see cref="Metrics"/> (cluster "-").
    /// </summary>
    public LocalResponse? LocalResponse { get; init; }

    /// <summary>The route's and its listener's changes to the fields of forwarded requests; null for none.</summary>
    public Headers.FieldChanges? RequestChanges { get; init; }

    /// <summary>The route's and its listener's changes to the fields of relayed responses; null for none.</summary>
    public Headers.FieldChanges? ResponseChanges { get; init; }

    /// <summary>The route's path and host rewrite; null for none.</summary>
    public Rewrites.RequestRewrite? Rewrite { get; init; }

    /// <summary>
    /// The same route sending to <paramref name="clusters"/> and <paramref name="mirrorCluster"/> (recompiled clusters
    /// of the same names), keeping everything else, its state included (rate-limit bucket, retry budget), for
    /// <see cref="ListenerRebinder"/>. Copies every other property: a property added above must be copied here too.
    /// </summary>
    internal RouteRuntime WithClusters(Cluster[] clusters, Cluster? mirrorCluster) => new(Route, clusters, Timeout, Metrics)
    {
        Retry = Retry,
        Budget = Budget,
        RateLimit = RateLimit,
        Fault = Fault,
        FaultHeaders = FaultHeaders,
        Mirror = Mirror,
        MirrorCluster = mirrorCluster,
        Counters = Counters,
        LocalResponse = LocalResponse,
        RequestChanges = RequestChanges,
        ResponseChanges = ResponseChanges,
        Rewrite = Rewrite,
    };
}

/// <summary>The per-route counters of rate limiting, faults and mirroring, resolved once.</summary>
public sealed class ResilienceCounters(Observability.Metrics.Counter rateLimited, Observability.Metrics.Counter faultDelays, Observability.Metrics.Counter faultAborts, Observability.Metrics.Counter mirrored)
{
    public static ResilienceCounters Detached { get; } = new(new(), new(), new(), new());

    public Observability.Metrics.Counter RateLimited { get; } = rateLimited;

    public Observability.Metrics.Counter FaultDelays { get; } = faultDelays;

    public Observability.Metrics.Counter FaultAborts { get; } = faultAborts;

    public Observability.Metrics.Counter Mirrored { get; } = mirrored;
}
