using System.Text.Json;

namespace Proxy.Observability.Tracing;

/// <summary>
/// Writes spans as an OTLP/HTTP JSON <c>ExportTraceServiceRequest</c> (opentelemetry-proto, JSON mapping of
/// proto3 as the OTLP specification amends it): <c>resourceSpans / scopeSpans / spans</c>, trace and span ids as
/// hex strings (not base64), 64-bit integers (times, intValue) as decimal strings, enums as numbers.
/// </summary>
public static class OtlpJsonWriter
{
    // opentelemetry-proto trace.proto Status.StatusCode.
    private const int StatusError = 2;

    /// <summary>Writes one request body holding <paramref name="spans"/> under a resource named <paramref name="serviceName"/>.</summary>
    public static void Write(Utf8JsonWriter json, ReadOnlySpan<TraceSpan> spans, string serviceName)
    {
        json.WriteStartObject();
        json.WriteStartArray("resourceSpans"u8);
        json.WriteStartObject();
        json.WriteStartObject("resource"u8);
        json.WriteStartArray("attributes"u8);
        WriteAttribute(json, "service.name"u8, serviceName);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteStartArray("scopeSpans"u8);
        json.WriteStartObject();
        json.WriteStartObject("scope"u8);
        json.WriteString("name"u8, "proxy"u8);
        json.WriteEndObject();
        json.WriteStartArray("spans"u8);
        foreach (var span in spans)
        {
            WriteSpan(json, span);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteSpan(Utf8JsonWriter json, TraceSpan span)
    {
        Span<byte> hex = stackalloc byte[TraceId.HexLength];
        json.WriteStartObject();
        span.Context.TraceId.WriteHex(hex);
        json.WriteString("traceId"u8, hex);
        span.Context.SpanId.WriteHex(hex);
        json.WriteString("spanId"u8, hex[..SpanId.HexLength]);
        if (span.ParentSpanId.IsValid)
        {
            span.ParentSpanId.WriteHex(hex);
            json.WriteString("parentSpanId"u8, hex[..SpanId.HexLength]);
        }

        json.WriteString("name"u8, span.Name);
        json.WriteNumber("kind"u8, (int)span.Kind);
        WriteInt64String(json, "startTimeUnixNano"u8, span.StartUnixNanos);
        WriteInt64String(json, "endTimeUnixNano"u8, span.EndUnixNanos);
        json.WriteStartArray("attributes"u8);
        if (!span.Method.IsEmpty)
        {
            json.WriteStartObject();
            json.WriteString("key"u8, "http.method"u8);
            json.WriteStartObject("value"u8);
            json.WriteString("stringValue"u8, span.Method);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        WriteAttribute(json, "http.route"u8, span.Route);
        if (span.StatusCode != 0)
        {
            WriteIntAttribute(json, "http.status_code"u8, span.StatusCode);
        }

        WriteAttribute(json, "net.peer.ip"u8, span.PeerAddress);
        if (span.PeerPort != 0)
        {
            WriteIntAttribute(json, "net.peer.port"u8, span.PeerPort);
        }

        WriteAttribute(json, "upstream.endpoint"u8, span.UpstreamEndpoint);
        WriteAttribute(json, "upstream.cluster"u8, span.Cluster);
        WriteAttribute(json, "peer.principal"u8, span.PeerIdentity);
        WriteAttribute(json, "upstream.principal"u8, span.UpstreamPeerIdentity);
        WriteAttribute(json, "proxy.response_flags"u8, span.ResponseFlags);
        json.WriteEndArray();
        if (span.IsError)
        {
            json.WriteStartObject("status"u8);
            json.WriteNumber("code"u8, StatusError);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteAttribute(Utf8JsonWriter json, ReadOnlySpan<byte> key, string? value)
    {
        if (value is null)
        {
            return;
        }

        json.WriteStartObject();
        json.WriteString("key"u8, key);
        json.WriteStartObject("value"u8);
        json.WriteString("stringValue"u8, value);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteIntAttribute(Utf8JsonWriter json, ReadOnlySpan<byte> key, long value)
    {
        json.WriteStartObject();
        json.WriteString("key"u8, key);
        json.WriteStartObject("value"u8);
        WriteInt64String(json, "intValue"u8, value);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteInt64String(Utf8JsonWriter json, ReadOnlySpan<byte> name, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        value.TryFormat(digits, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        json.WriteString(name, digits[..written]);
    }
}
