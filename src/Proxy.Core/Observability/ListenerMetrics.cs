using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>The labelled metric children of one listener, resolved once.</summary>
public sealed class ListenerMetrics(ProxyMetrics metrics, string listener)
{
    public Counter Opened { get; } = metrics.ConnectionsOpened.WithLabels(listener);

    public Counter Closed { get; } = metrics.ConnectionsClosed.WithLabels(listener);

    public Gauge Active { get; } = metrics.ConnectionsActive.WithLabels(listener);

    public Counter AcceptErrors { get; } = metrics.AcceptErrors.WithLabels(listener);

    public Counter IdleTimeouts { get; } = metrics.IdleTimeouts.WithLabels(listener);

    /// <summary>Connections of a listener with filter chains that none took (closed).</summary>
    public Counter NoFilterChain { get; } = metrics.NoFilterChain.WithLabels(listener);
}
