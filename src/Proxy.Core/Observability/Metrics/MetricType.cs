namespace Proxy.Observability.Metrics;

/// <summary>The Prometheus metric types the registry exposes.</summary>
public enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}
