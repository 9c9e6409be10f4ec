namespace Proxy.Observability.Tracing;

/// <summary>
/// The propagated identity of a span: trace id, span id, and whether the trace is sampled (the W3C
/// <c>sampled</c> trace flag, B3's <c>X-B3-Sampled</c>).
/// </summary>
public readonly record struct SpanContext(TraceId TraceId, SpanId SpanId, bool Sampled)
{
    /// <summary>True when both ids are valid.</summary>
    public bool IsValid => TraceId.IsValid && SpanId.IsValid;
}
