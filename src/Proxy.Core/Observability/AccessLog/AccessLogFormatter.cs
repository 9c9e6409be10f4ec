using System.Text.Json;
using System.Text.Unicode;

namespace Proxy.Observability.AccessLog;

/// <summary>
/// Writes an <see cref="AccessLogEntry"/> as one JSON object with <see cref="Utf8JsonWriter"/> (no reflection,
/// AOT-clean). Field names follow Envoy's default JSON access log where one exists.
/// </summary>
public static class AccessLogFormatter
{
    /// <summary>Writes <paramref name="entry"/> as one JSON object (the caller adds the newline).</summary>
    public static void Write(Utf8JsonWriter json, AccessLogEntry entry)
    {
        json.WriteStartObject();
        // ISO 8601 with seven fractional digits, "Z" for UTC (Utf8JsonWriter's DateTime format).
        json.WriteString("start_time"u8, DateTime.SpecifyKind(entry.StartTime, DateTimeKind.Utc));
        json.WriteNumber("duration_ms"u8, Math.Round(entry.DurationMs, 3));
        json.WriteString("kind"u8, entry.Kind == AccessLogKind.Tcp ? "tcp"u8 : "http"u8);
        if (entry.Kind == AccessLogKind.Http)
        {
            WriteBytes(json, "method"u8, entry.Method);
            WriteBytes(json, "authority"u8, entry.Authority);
            WriteBytes(json, "path"u8, entry.Path);
        }

        WriteOptional(json, "protocol"u8, entry.Protocol);
        if (entry.Kind == AccessLogKind.Http)
        {
            json.WriteNumber("status"u8, entry.Status);
        }

        json.WriteNumber("bytes_received"u8, entry.BytesReceived);
        json.WriteNumber("bytes_sent"u8, entry.BytesSent);
        WriteOptional(json, "upstream_host"u8, entry.UpstreamEndpoint);
        json.WriteString("response_flags"u8, entry.ResponseFlags ?? "-");
        json.WriteNumber("attempts"u8, entry.Attempts);
        WriteOptional(json, "peer_identity"u8, entry.PeerIdentity);
        WriteOptional(json, "upstream_peer_identity"u8, entry.UpstreamPeerIdentity);
        if (!entry.RequestId.IsEmpty)
        {
            WriteBytes(json, "request_id"u8, entry.RequestId);
        }

        if ((entry.TraceIdHigh | entry.TraceIdLow) != 0)
        {
            Span<byte> hex = stackalloc byte[32];
            WriteHex(entry.TraceIdHigh, hex[..16]);
            WriteHex(entry.TraceIdLow, hex[16..]);
            json.WriteString("trace_id"u8, hex);
        }

        WriteOptional(json, "listener"u8, entry.Listener);
        WriteOptional(json, "route"u8, entry.Route);
        WriteOptional(json, "cluster"u8, entry.Cluster);
        json.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteBytes(Utf8JsonWriter json, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (Utf8.IsValid(value))
        {
            json.WriteString(name, value);
            return;
        }

        // obs-text (RFC 9110 section 5.5) is not UTF-8: log it as Latin-1 rather than failing the line.
        Span<char> chars = value.Length <= 1024 ? stackalloc char[value.Length] : new char[value.Length];
        for (int i = 0; i < value.Length; i++)
        {
            chars[i] = (char)value[i];
        }

        json.WriteString(name, chars);
    }

    private static void WriteHex(ulong value, Span<byte> destination)
    {
        for (int i = 15; i >= 0; i--)
        {
            destination[i] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }
}
