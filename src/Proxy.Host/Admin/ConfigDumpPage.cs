using Proxy.Configuration;
using Proxy.Runtime;

namespace Proxy.Host.Admin;

/// <summary>
/// GET /config_dump: the running configuration as JSON, wrapped with where it came from and its
/// generation, <c>{ "generation", "source", "config" }</c>. The <c>config</c> member is what
/// /config answers (the file format, defaults spelled out, with the management server's clusters among the file's).
/// With an xds section, <c>configs</c> holds the xDS resources in Envoy's layout (envoy.admin.v3.ConfigDump:
/// <c>ClustersConfigDump</c> with <c>dynamic_active_clusters</c>, <c>EndpointsConfigDump</c>), which the tools that
/// read a sidecar's config dump expect.
/// </summary>
public static class ConfigDumpPage
{
    public static AdminResponse Render(ProxySnapshot? snapshot, string? configPath, Action<System.Text.Json.Utf8JsonWriter>? xdsDump = null)
    {
        if (snapshot is null)
        {
            return AdminResponse.Text(503, "no configuration loaded\n");
        }

        return AdminResponse.Json(200, AdminJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("generation", snapshot.Generation);
            w.WriteString("source", configPath is null ? "embedded" : Path.GetFullPath(configPath));
            w.WritePropertyName("config");
            ConfigWriter.Write(w, snapshot.Config);
            if (xdsDump is not null)
            {
                w.WriteStartArray("configs");
                xdsDump(w);
                w.WriteEndArray();
            }

            w.WriteEndObject();
        }));
    }
}
