namespace Proxy.Observability.Tracing;

/// <summary>A sampling decision carried without (or with) a trace context, as B3 allows (<c>b3: 0</c>).</summary>
public enum SamplingDecision : byte
{
    /// <summary>The caller expressed none: the proxy decides.</summary>
    Unspecified,

    /// <summary>Record the trace (B3 <c>1</c> or <c>d</c>, W3C sampled flag set).</summary>
    Sampled,

    /// <summary>Do not record (B3 <c>0</c>, W3C sampled flag clear).</summary>
    NotSampled,
}
