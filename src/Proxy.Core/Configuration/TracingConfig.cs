namespace Proxy.Configuration;

/// <summary>
/// Trace export: spans for every request, sent as OTLP/HTTP JSON to a collector. W3C traceparent
/// and B3 headers are propagated whether or not a collector is set.
/// </summary>
public sealed record TracingConfig
{
    /// <summary>The collector's base URL (spans are POSTed to <c>{collector}/v1/traces</c>); null = no export.</summary>
    public string? Collector { get; init; }

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    public string ServiceName { get; init; } = "proxy";

    /// <summary>Share of new traces (requests without a sampling decision) that are sampled, 0 to 100.</summary>
    public double SamplePercent { get; init; } = 100;
}
