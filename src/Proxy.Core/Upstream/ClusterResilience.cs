using Proxy.Resilience;

namespace Proxy.Upstream;

/// <summary>The resilience state of one cluster in a snapshot; absent parts are null.</summary>
public sealed class ClusterResilience(CircuitBreaker? breaker, OutlierDetector? outliers, HealthChecker? healthChecker, ClusterResilienceMetrics metrics)
{
    public static ClusterResilience None { get; } = new(null, null, null, ClusterResilienceMetrics.Detached());

    public CircuitBreaker? Breaker { get; } = breaker;

    public OutlierDetector? Outliers { get; } = outliers;

    /// <summary>Started when its snapshot goes live, disposed when the snapshot is replaced.</summary>
    public HealthChecker? HealthChecker { get; } = healthChecker;

    public ClusterResilienceMetrics Metrics { get; } = metrics;
}
