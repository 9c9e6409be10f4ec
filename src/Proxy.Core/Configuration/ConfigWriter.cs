using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Proxy.Configuration;

/// <summary>
/// Writes a <see cref="ProxyConfig"/> as JSON in the configuration file format, every setting
/// spelled out (defaults included), for the admin /config page. Hand-written over
/// <see cref="Utf8JsonWriter"/>: no reflection. Loading the output gives back an equal model.
/// </summary>
public static partial class ConfigWriter
{
    /// <summary>The configuration as indented JSON (relaxed escaping: the page is served as application/json, never embedded in HTML).</summary>
    public static string ToJson(ProxyConfig config)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, config);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the configuration as one JSON object.</summary>
    public static void Write(Utf8JsonWriter w, ProxyConfig config)
    {
        w.WriteStartObject();
        w.WriteStartObject("admin");
        w.WriteString("address", config.Admin.Address.ToString());
        w.WriteBoolean("allow_remote_control", config.Admin.AllowRemoteControl);
        w.WriteEndObject();
        if (config.Stats is { } stats)
        {
            w.WriteStartObject("stats");
            w.WriteString("address", stats.Address.ToString());
            w.WriteEndObject();
        }
        w.WriteStartArray("listeners");
        foreach (var listener in config.Listeners)
        {
            WriteListener(w, listener);
        }
        w.WriteEndArray();
        w.WriteStartArray("clusters");
        foreach (var cluster in config.Clusters)
        {
            WriteCluster(w, cluster);
        }
        w.WriteEndArray();
        if (config.Mesh is { } mesh)
        {
            WriteMesh(w, mesh);
        }
        w.WriteStartObject("log");
        w.WriteString("format", config.Log.Format);
        w.WriteString("level", config.Log.Level);
        w.WriteString("access_log", config.Log.AccessLog ?? "none");
        if (config.Log.AccessLogFormat is { } accessLogFormat)
        {
            w.WriteString("access_log_format", accessLogFormat);
        }

        w.WriteEndObject();
        Duration(w, "drain_time", config.DrainTime);
        Duration(w, "drain_timeout", config.DrainTimeout);
        w.WriteStartObject("tracing");
        if (config.Tracing.Collector is { } collector)
        {
            w.WriteString("collector", collector);
        }

        w.WriteString("service_name", config.Tracing.ServiceName);
        w.WriteNumber("sample_percent", config.Tracing.SamplePercent);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteListener(Utf8JsonWriter w, ListenerConfig listener)
    {
        w.WriteStartObject();
        w.WriteString("name", listener.Name);
        w.WriteString("address", listener.Address.ToString());
        w.WriteString("protocol", listener.Protocol switch
        {
            ListenerProtocol.Tcp => "tcp",
            ListenerProtocol.Auto => "auto",
            _ => "http",
        });
        OptionalString(w, "cluster", listener.Cluster);
        if (listener.VirtualHosts.Count > 0)
        {
            w.WriteStartArray("virtual_hosts");
            foreach (var host in listener.VirtualHosts)
            {
                WriteVirtualHost(w, host);
            }
            w.WriteEndArray();
        }
        else if (listener.Protocol != ListenerProtocol.Tcp)
        {
            w.WriteStartArray("routes");
            foreach (var route in listener.Routes)
            {
                WriteRoute(w, route);
            }
            w.WriteEndArray();
        }
        if (listener.Tls is { } tls)
        {
            w.WriteStartObject("tls");
            w.WriteStartArray("certificates");
            foreach (var certificate in tls.Certificates)
            {
                w.WriteStartObject();
                w.WriteString("cert", certificate.Cert);
                w.WriteString("key", certificate.Key);
                Strings(w, "sni", certificate.Sni);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            OptionalString(w, "client_ca", tls.ClientCa);
            w.WriteBoolean("require_client_cert", tls.RequireClientCert);
            Strings(w, "alpn", tls.Alpn);
            w.WriteEndObject();
        }
        Duration(w, "idle_timeout", listener.IdleTimeout);
        OptionalDuration(w, "connect_timeout", listener.ConnectTimeout);
        w.WriteStartObject("limits");
        w.WriteNumber("max_header_bytes", listener.Limits.MaxHeaderBytes);
        w.WriteNumber("max_request_target_bytes", listener.Limits.MaxRequestTargetBytes);
        w.WriteNumber("max_body_bytes", listener.Limits.MaxBodyBytes);
        Duration(w, "header_timeout", listener.Limits.HeaderTimeout);
        w.WriteEndObject();
        WriteHeaderChanges(w, "request_headers", listener.RequestHeaders);
        WriteHeaderChanges(w, "response_headers", listener.ResponseHeaders);
        WriteRateLimit(w, listener.RateLimit);
        if (listener.HttpFilters is { } filters)
        {
            Strings(w, "http_filters", filters);
        }
        w.WriteEndObject();
    }

    private static void WriteRateLimit(Utf8JsonWriter w, RateLimitConfig? rateLimit)
    {
        if (rateLimit is null)
        {
            return;
        }
        w.WriteStartObject("rate_limit");
        w.WriteNumber("requests_per_second", rateLimit.RequestsPerSecond);
        w.WriteNumber("burst", rateLimit.Burst);
        w.WriteEndObject();
    }

    private static void Duration(Utf8JsonWriter w, string name, TimeSpan value) =>
        w.WriteString(name, ConfigDuration.Format(value));

    private static void OptionalDuration(Utf8JsonWriter w, string name, TimeSpan? value)
    {
        if (value is { } duration)
        {
            Duration(w, name, duration);
        }
    }

    private static void OptionalString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void Strings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }
        w.WriteEndArray();
    }

    private static void Numbers(Utf8JsonWriter w, string name, IReadOnlyList<int> values)
    {
        w.WriteStartArray(name);
        foreach (int value in values)
        {
            w.WriteNumberValue(value);
        }
        w.WriteEndArray();
    }
}
