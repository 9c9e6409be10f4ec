using System.Net;
using System.Text;
using System.Text.Json;
using Proxy.Configuration;
using Proxy.Runtime;

namespace Proxy.Host.Admin;

/// <summary>
/// GET /listeners: each listener's name and bound address (the real port when 0 was configured),
/// as Envoy's <c>name::address</c> lines or, with <c>?format=json</c>, as JSON with the protocol and TLS.
/// The mesh sidecar's inbound and outbound listeners are named <c>mesh_inbound</c> and <c>mesh_outbound</c>.
/// </summary>
public static class ListenersPage
{
    private readonly record struct Row(string Name, IPEndPoint Address, string Configured, string Protocol, bool Tls);

    public static AdminResponse Render(ProxyRuntime runtime, bool json)
    {
        if (runtime.Current is not { } snapshot)
        {
            return AdminResponse.Text(503, "no configuration loaded\n");
        }

        var rows = Rows(runtime, snapshot.Config);
        if (json)
        {
            return AdminResponse.Json(200, AdminJson.Write(w => WriteJson(w, rows)));
        }

        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.Append(row.Name).Append("::").Append(row.Address).Append('\n');
        }

        return AdminResponse.Text(200, text.ToString());
    }

    private static List<Row> Rows(ProxyRuntime runtime, ProxyConfig config)
    {
        var bound = runtime.BoundAddresses;
        var rows = new List<Row>();
        foreach (var listener in config.Listeners)
        {
            if (bound.TryGetValue(listener.Name, out var address))
            {
                string protocol = listener.Protocol switch { ListenerProtocol.Tcp => "tcp", ListenerProtocol.Auto => "auto", _ => "http" };
                rows.Add(new Row(listener.Name, address, listener.Address.ToString(), protocol, listener.Tls is not null));
            }
        }

        if (runtime.Mesh is { } mesh && config.Mesh is { } meshConfig)
        {
            rows.Add(new Row("mesh_inbound", mesh.InboundAddress, $"port {meshConfig.Inbound.Port}", "auto", true));
            rows.Add(new Row("mesh_outbound", mesh.OutboundAddress, $"port {meshConfig.Outbound.Port}", "auto", false));
        }

        return rows;
    }

    private static void WriteJson(Utf8JsonWriter w, List<Row> rows)
    {
        w.WriteStartObject();
        w.WriteStartArray("listener_statuses");
        foreach (var row in rows)
        {
            w.WriteStartObject();
            w.WriteString("name", row.Name);
            w.WriteString("local_address", row.Address.ToString());
            w.WriteString("configured_address", row.Configured);
            w.WriteString("protocol", row.Protocol);
            w.WriteBoolean("tls", row.Tls);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
