using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>
/// The Istio standard HTTP families (istio_requests_total, istio_request_duration_milliseconds,
/// istio_request_bytes, istio_response_bytes) with the labels the proxy knows today.
/// </summary>
public sealed class RequestMetricFamilies
{
    public static readonly string[] Labels =
        ["reporter", "listener", "route", "destination_service", "request_protocol", "response_code", "response_flags"];

    public RequestMetricFamilies(MetricsRegistry registry)
    {
        Requests = registry.Counter("istio_requests_total", "HTTP requests by route, cluster, response code and flags.", Labels);
        Duration = registry.Histogram("istio_request_duration_milliseconds", "Time from request start to the last response byte.", MetricsRegistry.MillisecondBuckets, Labels);
        RequestBytes = registry.Histogram("istio_request_bytes", "Request size: head and body.", MetricsRegistry.ByteBuckets, Labels);
        ResponseBytes = registry.Histogram("istio_response_bytes", "Response size: head and body.", MetricsRegistry.ByteBuckets, Labels);
    }

    public CounterFamily Requests { get; }

    public HistogramFamily Duration { get; }

    public HistogramFamily RequestBytes { get; }

    public HistogramFamily ResponseBytes { get; }
}
