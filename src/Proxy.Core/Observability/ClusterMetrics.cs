using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>The labelled metric children of one cluster, resolved once.</summary>
public sealed class ClusterMetrics(ProxyMetrics metrics, string cluster)
{
    public Counter Connections { get; } = metrics.UpstreamConnections.WithLabels(cluster);

    public Counter ConnectRefused { get; } = metrics.UpstreamConnectFailures.WithLabels(cluster, "refused");

    public Counter ConnectTimeouts { get; } = metrics.UpstreamConnectFailures.WithLabels(cluster, "timeout");

    public Histogram ConnectDuration { get; } = metrics.UpstreamConnectDuration.WithLabels(cluster);

    public Counter NoHealthyEndpoint { get; } = metrics.NoHealthyEndpoint.WithLabels(cluster);

    public Gauge PoolIdle { get; } = metrics.PoolIdle.WithLabels(cluster);
}
