using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>
/// The Istio standard HTTP families (istio_requests_total, istio_request_duration_milliseconds,
/// istio_request_bytes, istio_response_bytes) with Istio's labels.
/// </summary>
public sealed class RequestMetricFamilies
{
    /// <summary>Istio's standard labels, in Istio's order, with this proxy's <c>listener</c> and <c>route</c> after <c>reporter</c>.</summary>
    public static readonly string[] Labels =
    [
        "reporter", "listener", "route",
        "source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
        "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
        "destination_service", "destination_service_name", "destination_service_namespace",
        "request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy",
    ];

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
