using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>The runtime form of one listener in a snapshot: what a new connection on it is served with.</summary>
public sealed class ListenerRuntime(ListenerConfig config, Cluster? cluster, ListenerMetrics metrics)
{
    public string Name => Config.Name;

    public ListenerConfig Config { get; } = config;

    /// <summary>The cluster of a tcp listener.</summary>
    public Cluster? Cluster { get; } = cluster;

    public ListenerMetrics Metrics { get; } = metrics;
}
