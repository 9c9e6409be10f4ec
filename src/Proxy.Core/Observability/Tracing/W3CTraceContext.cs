namespace Proxy.Observability.Tracing;

/// <summary>
/// The W3C Trace Context headers (https://www.w3.org/TR/trace-context/): <c>traceparent</c> parse and format,
/// and <c>tracestate</c> validation (the proxy adds no vendor entry, so a valid tracestate is forwarded as is).
/// </summary>
public static class W3CTraceContext
{
    /// <summary>Length of a version-00 traceparent.</summary>
    public const int TraceParentLength = 55;

    private const byte SampledFlag = 0x01;

    /// <summary>The header name.</summary>
    public static ReadOnlySpan<byte> TraceParentHeader => "traceparent"u8;

    /// <summary>The header name.</summary>
    public static ReadOnlySpan<byte> TraceStateHeader => "tracestate"u8;

    /// <summary>
    /// Parses <c>version "-" trace-id "-" parent-id "-" trace-flags</c> (section 3.2.2): lower-case hex only,
    /// version ff invalid, all-zero ids invalid; version 00 must be exactly 55 bytes, a later version may append
    /// fields after a dash (section 3.2.4, forward compatibility).
    /// </summary>
    public static bool TryParseTraceParent(ReadOnlySpan<byte> value, out SpanContext context)
    {
        context = default;
        if (value.Length < TraceParentLength
            || value[2] != (byte)'-' || value[35] != (byte)'-' || value[52] != (byte)'-'
            || !HexCodec.TryRead(value[..2], false, out ulong version) || version == 0xFF
            || (version == 0 && value.Length != TraceParentLength)
            || (value.Length > TraceParentLength && value[TraceParentLength] != (byte)'-')
            || !TraceId.TryParse(value.Slice(3, 32), false, out var traceId) || !traceId.IsValid
            || !SpanId.TryParse(value.Slice(36, 16), false, out var spanId) || !spanId.IsValid
            || !HexCodec.TryRead(value.Slice(53, 2), false, out ulong flags))
        {
            return false;
        }

        context = new SpanContext(traceId, spanId, (flags & SampledFlag) != 0);
        return true;
    }

    /// <summary>Writes a version-00 traceparent (55 bytes) for <paramref name="context"/>; returns the length.</summary>
    public static int FormatTraceParent(in SpanContext context, Span<byte> destination)
    {
        var d = destination[..TraceParentLength];
        d[0] = (byte)'0';
        d[1] = (byte)'0';
        d[2] = (byte)'-';
        context.TraceId.WriteHex(d.Slice(3, 32));
        d[35] = (byte)'-';
        context.SpanId.WriteHex(d.Slice(36, 16));
        d[52] = (byte)'-';
        d[53] = (byte)'0';
        d[54] = context.Sampled ? (byte)'1' : (byte)'0';
        return TraceParentLength;
    }

    /// <summary>
    /// Whether a tracestate value is valid (section 3.3): at most 32 comma-separated list members
    /// <c>key=value</c>, keys lower-case <c>[a-z0-9_\-*/]</c> (with an optional <c>tenant@system</c>), values
    /// printable ASCII without comma or equals, at most 256 bytes; empty members (OWS) are allowed. Invalid
    /// tracestate is dropped, not forwarded (section 3.3.1.1).
    /// </summary>
    public static bool IsValidTraceState(ReadOnlySpan<byte> value)
    {
        if (value.Length > 512)
        {
            return false;
        }

        int members = 0;
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            var member = (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
            if (!member.IsEmpty)
            {
                if (++members > 32 || !IsValidMember(member))
                {
                    return false;
                }
            }

            if (comma < 0)
            {
                return true;
            }

            value = value[(comma + 1)..];
        }
    }

    private static bool IsValidMember(ReadOnlySpan<byte> member)
    {
        int equals = member.IndexOf((byte)'=');
        if (equals <= 0 || equals > 256)
        {
            return false;
        }

        var key = member[..equals];
        var val = member[(equals + 1)..];
        if (val.IsEmpty || val.Length > 256 || val[^1] == (byte)' ' || !(key[0] is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'))
        {
            return false;
        }

        foreach (byte b in key)
        {
            if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'_' or (byte)'-' or (byte)'*' or (byte)'/' or (byte)'@'))
            {
                return false;
            }
        }

        foreach (byte b in val)
        {
            if (b is < 0x20 or > 0x7E or (byte)',' or (byte)'=')
            {
                return false;
            }
        }

        return true;
    }
}
