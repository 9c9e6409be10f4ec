using System.Diagnostics;
using Proxy.Runtime;

namespace Proxy.Host.Admin;

/// <summary>
/// GET /server_info: what is running and how it is doing (Envoy's /server_info): version and
/// commit, state (<c>INITIALIZING</c> before the first configuration is live, <c>LIVE</c>,
/// <c>DRAINING</c>), uptime since the host started, and the running configuration's generation and file.
/// </summary>
public static class ServerInfoPage
{
    public static AdminResponse Render(ProxyRuntime runtime, long startTimestamp, DateTimeOffset startTime, string? configPath)
    {
        string state = runtime.IsDraining ? "DRAINING" : runtime.Current is null ? "INITIALIZING" : "LIVE";
        return AdminResponse.Json(200, AdminJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("version", BuildInfo.Version);
            w.WriteString("commit", BuildInfo.Commit);
            w.WriteString("state", state);
            w.WriteNumber("uptime_seconds", (long)Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
            w.WriteString("start_time", startTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteNumber("config_generation", runtime.Current?.Generation ?? 0);
            if (configPath is not null)
            {
                w.WriteString("config_file", Path.GetFullPath(configPath));
            }

            w.WriteNumber("connections_active", runtime.Connections.Count);
            w.WriteEndObject();
        }));
    }
}
