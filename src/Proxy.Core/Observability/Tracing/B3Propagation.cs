namespace Proxy.Observability.Tracing;

/// <summary>
/// Zipkin B3 propagation (https://github.com/openzipkin/b3-propagation): the single <c>b3</c> header
/// <c>{TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}</c> and the multi-header <c>X-B3-*</c> form.
/// 64-bit trace ids are accepted and widened with zeros; hex may be upper case on input, lower case on output.
/// </summary>
public static class B3Propagation
{
    /// <summary>The single header.</summary>
    public static ReadOnlySpan<byte> SingleHeader => "b3"u8;

    /// <summary>Multi-header names (lower case, as HTTP/2 sends them).</summary>
    public static ReadOnlySpan<byte> TraceIdHeader => "x-b3-traceid"u8;

    /// <summary>Multi-header span id.</summary>
    public static ReadOnlySpan<byte> SpanIdHeader => "x-b3-spanid"u8;

    /// <summary>Multi-header parent span id.</summary>
    public static ReadOnlySpan<byte> ParentSpanIdHeader => "x-b3-parentspanid"u8;

    /// <summary>Multi-header sampling state.</summary>
    public static ReadOnlySpan<byte> SampledHeader => "x-b3-sampled"u8;

    /// <summary>Multi-header debug flag.</summary>
    public static ReadOnlySpan<byte> FlagsHeader => "x-b3-flags"u8;

    /// <summary>Longest single header this writes (32 + 1 + 16 + 1 + 1 + 1 + 16).</summary>
    public const int MaxSingleLength = 68;

    /// <summary>
    /// Parses a <c>b3</c> header. True with a context when ids are present; <paramref name="decision"/> carries the
    /// sampling state either way (a lone <c>0</c>, <c>1</c> or <c>d</c> gives a decision and returns false).
    /// </summary>
    public static bool TryParseSingle(ReadOnlySpan<byte> value, out SpanContext context, out SamplingDecision decision)
    {
        context = default;
        decision = SamplingDecision.Unspecified;
        value = value.Trim(" \t"u8);
        if (value.Length == 1)
        {
            decision = ParseSamplingState(value);
            return false;
        }

        int dash = value.IndexOf((byte)'-');
        if (dash < 0 || !TraceId.TryParse(value[..dash], true, out var traceId) || !traceId.IsValid)
        {
            return false;
        }

        var rest = value[(dash + 1)..];
        dash = rest.IndexOf((byte)'-');
        var spanText = dash < 0 ? rest : rest[..dash];
        if (!SpanId.TryParse(spanText, true, out var spanId) || !spanId.IsValid)
        {
            return false;
        }

        if (dash >= 0)
        {
            rest = rest[(dash + 1)..];
            dash = rest.IndexOf((byte)'-');
            var sampling = dash < 0 ? rest : rest[..dash];
            decision = ParseSamplingState(sampling);
            if (decision == SamplingDecision.Unspecified || (dash >= 0 && !SpanId.TryParse(rest[(dash + 1)..], true, out _)))
            {
                return false;
            }
        }

        context = new SpanContext(traceId, spanId, decision == SamplingDecision.Sampled);
        return true;
    }

    /// <summary>
    /// Parses the multi-header form; pass empty spans for absent headers. <c>X-B3-Flags: 1</c> (debug) means sampled;
    /// <c>X-B3-Sampled</c> accepts <c>1</c>/<c>0</c> and the legacy <c>true</c>/<c>false</c>.
    /// </summary>
    public static bool TryParseMulti(ReadOnlySpan<byte> traceIdValue, ReadOnlySpan<byte> spanIdValue, ReadOnlySpan<byte> sampledValue, ReadOnlySpan<byte> flagsValue, out SpanContext context, out SamplingDecision decision)
    {
        context = default;
        decision = flagsValue.Trim(" \t"u8).SequenceEqual("1"u8)
            ? SamplingDecision.Sampled
            : sampledValue.Trim(" \t"u8) switch
            {
                var s when s.SequenceEqual("1"u8) || s.SequenceEqual("true"u8) => SamplingDecision.Sampled,
                var s when s.SequenceEqual("0"u8) || s.SequenceEqual("false"u8) => SamplingDecision.NotSampled,
                _ => SamplingDecision.Unspecified,
            };
        if (!TraceId.TryParse(traceIdValue.Trim(" \t"u8), true, out var traceId) || !traceId.IsValid
            || !SpanId.TryParse(spanIdValue.Trim(" \t"u8), true, out var spanId) || !spanId.IsValid)
        {
            return false;
        }

        context = new SpanContext(traceId, spanId, decision == SamplingDecision.Sampled);
        return true;
    }

    /// <summary>Writes the <c>b3</c> header value (with the parent when valid); returns the length.</summary>
    public static int FormatSingle(in SpanContext context, SpanId parent, Span<byte> destination)
    {
        context.TraceId.WriteHex(destination);
        destination[32] = (byte)'-';
        context.SpanId.WriteHex(destination[33..]);
        destination[49] = (byte)'-';
        destination[50] = context.Sampled ? (byte)'1' : (byte)'0';
        if (!parent.IsValid)
        {
            return 51;
        }

        destination[51] = (byte)'-';
        parent.WriteHex(destination[52..]);
        return MaxSingleLength;
    }

    /// <summary>The <c>X-B3-TraceId</c> value (32 hex digits).</summary>
    public static void FormatTraceId(in SpanContext context, Span<byte> destination) => context.TraceId.WriteHex(destination);

    /// <summary>The <c>X-B3-SpanId</c> value (16 hex digits).</summary>
    public static void FormatSpanId(in SpanContext context, Span<byte> destination) => context.SpanId.WriteHex(destination);

    /// <summary>The <c>X-B3-Sampled</c> value.</summary>
    public static ReadOnlySpan<byte> FormatSampled(in SpanContext context) => context.Sampled ? "1"u8 : "0"u8;

    private static SamplingDecision ParseSamplingState(ReadOnlySpan<byte> value) => value.Length != 1 ? SamplingDecision.Unspecified : value[0] switch
    {
        (byte)'1' or (byte)'d' => SamplingDecision.Sampled,
        (byte)'0' => SamplingDecision.NotSampled,
        _ => SamplingDecision.Unspecified,
    };
}
