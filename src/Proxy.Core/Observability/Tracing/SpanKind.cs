namespace Proxy.Observability.Tracing;

/// <summary>OTLP span kinds used by the proxy (opentelemetry-proto trace.proto SpanKind values).</summary>
public enum SpanKind : byte
{
    /// <summary>The downstream request as received (SPAN_KIND_SERVER).</summary>
    Server = 2,

    /// <summary>One upstream attempt (SPAN_KIND_CLIENT).</summary>
    Client = 3,
}
