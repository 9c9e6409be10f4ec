using System.Buffers;
using System.Text;

namespace Proxy.Observability.AccessLog;

/// <summary>
/// Writes one operator's value of an <see cref="AccessLogEntry"/> as UTF-8 text, formatting numbers and times in place
/// (no string is made). Returns false when the entry has no value for it, so the caller writes <c>-</c>.
/// </summary>
internal static class AccessLogValues
{
    public static bool TryWrite(IBufferWriter<byte> output, AccessLogEntry entry, AccessLogOperator op, int maxLength) => op switch
    {
        AccessLogOperator.StartTime => Formatted(output, DateTime.SpecifyKind(entry.StartTime, DateTimeKind.Utc), "yyyy-MM-ddTHH:mm:ss.fffZ"),
        AccessLogOperator.Duration => Formatted(output, (long)entry.DurationMs),
        AccessLogOperator.ResponseCode => Formatted(output, entry.Status),
        AccessLogOperator.ResponseFlags => Text(output, entry.ResponseFlags),
        AccessLogOperator.BytesReceived => Formatted(output, entry.BytesReceived),
        AccessLogOperator.BytesSent => Formatted(output, entry.BytesSent),
        AccessLogOperator.Protocol => entry.Kind == AccessLogKind.Http && Text(output, entry.Protocol),
        AccessLogOperator.UpstreamHost => Text(output, entry.UpstreamEndpoint),
        AccessLogOperator.UpstreamCluster => Text(output, entry.Cluster),
        AccessLogOperator.RouteName => Text(output, entry.Route),
        AccessLogOperator.Attempts => Formatted(output, entry.Attempts),
        AccessLogOperator.PeerUriSan => Text(output, entry.PeerIdentity),
        AccessLogOperator.UpstreamPeerUriSan => Text(output, entry.UpstreamPeerIdentity),
        AccessLogOperator.TraceId => TraceId(output, entry),
        AccessLogOperator.Method => Bytes(output, entry.Method, maxLength),
        AccessLogOperator.Path => Bytes(output, entry.Path, maxLength),
        AccessLogOperator.Authority => Bytes(output, entry.Authority, maxLength),
        AccessLogOperator.RequestId => Bytes(output, entry.RequestId, maxLength),
        _ => false,
    };

    private static bool Formatted<T>(IBufferWriter<byte> output, T value, string? format = null)
        where T : IUtf8SpanFormattable
    {
        var span = output.GetSpan(64);
        if (!value.TryFormat(span, out var written, format, System.Globalization.CultureInfo.InvariantCulture))
        {
            return false;
        }

        output.Advance(written);
        return true;
    }

    private static bool Text(IBufferWriter<byte> output, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length));
        output.Advance(Encoding.UTF8.GetBytes(value, span));
        return true;
    }

    private static bool Bytes(IBufferWriter<byte> output, ReadOnlySpan<byte> value, int maxLength)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        output.Write(maxLength > 0 && value.Length > maxLength ? value[..maxLength] : value);
        return true;
    }

    private static bool TraceId(IBufferWriter<byte> output, AccessLogEntry entry)
    {
        if ((entry.TraceIdHigh | entry.TraceIdLow) == 0)
        {
            return false;
        }

        var span = output.GetSpan(32);
        Hex(entry.TraceIdHigh, span[..16]);
        Hex(entry.TraceIdLow, span[16..32]);
        output.Advance(32);
        return true;
    }

    private static void Hex(ulong value, Span<byte> destination)
    {
        for (var i = 15; i >= 0; i--)
        {
            destination[i] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }
}
