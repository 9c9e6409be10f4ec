using Proxy.Configuration;
using Proxy.Runtime;

namespace Proxy.Host.Admin;

/// <summary>
/// GET /config_dump: the running configuration as JSON, wrapped with where it came from and its
/// generation, <c>{ "generation", "source", "config" }</c>. The <c>config</c> member is what
/// /config answers (the file format, defaults spelled out); resources a management server sends
/// are to join it beside <c>config</c>.
/// </summary>
public static class ConfigDumpPage
{
    public static AdminResponse Render(ProxySnapshot? snapshot, string? configPath)
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
            w.WriteEndObject();
        }));
    }
}
