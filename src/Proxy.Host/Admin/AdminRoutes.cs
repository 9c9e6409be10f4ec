using System.Diagnostics;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Host.Admin;

/// <summary>What each admin path answers. Kept apart from the socket code so it reads as a table.</summary>
/// <param name="shutdown">Drains and then ends the process (POST /shutdown); null disables the path.</param>
public sealed class AdminRoutes(ProxyRuntime runtime, MetricsRegistry registry, Logger log, Func<Task> beginDrain, Func<Task>? shutdown = null)
{
    private const string Index = """
        GET  /ready           200 once listeners are bound and the configuration is loaded; 503 while draining
        GET  /metrics         Prometheus text (also /stats/prometheus)
        GET  /server_info     version, commit, state, uptime (JSON)
        GET  /config          the running configuration (JSON, the file format)
        GET  /config_dump     the running configuration with its generation and source (JSON)
        GET  /clusters        endpoints with health and load (?format=json for JSON)
        GET  /listeners       listeners and their bound addresses (?format=json for JSON)
        GET  /certs           certificates and CA bundles in use (JSON)
        GET  /logging         the log level
        POST /logging?level=L set the log level: debug, info, warn, error
        POST /drain           stop accepting, finish in-flight work, keep running
        POST /shutdown        drain, then exit
        POST requests are answered for clients on this host only, unless admin.allow_remote_control is true.

        """;

    private static readonly string[] KnownPaths =
        ["/", "/ready", "/metrics", "/stats/prometheus", "/server_info", "/config", "/config_dump", "/clusters", "/listeners", "/certs", "/logging", "/drain", "/shutdown"];

    /// <summary>The configuration file, named by /server_info and /config_dump; null for embedded text.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Writes the xDS resources into /config_dump's <c>configs</c> (Envoy's layout); null without an xds section.</summary>
    public Action<System.Text.Json.Utf8JsonWriter>? XdsDump { get; init; }

    /// <summary>When the host started (Stopwatch ticks), for uptime.</summary>
    public long StartTimestamp { get; init; } = Stopwatch.GetTimestamp();

    /// <summary>When the host started (wall clock).</summary>
    public DateTimeOffset StartTime { get; init; } = DateTimeOffset.UtcNow;

    public async Task<AdminResponse> HandleAsync(AdminRequest request)
    {
        // Every POST changes what the proxy does (drain, exit, log level): only this host's clients
        // may, unless the file allows others, so a reachable admin port cannot take a pod down.
        if (request.Method == "POST" && !request.IsFromLoopback && runtime.Current?.Config.Admin.AllowRemoteControl != true)
        {
            log.Warn("admin request refused: not from loopback", ("method", request.Method), ("path", request.Path), ("client", request.Remote));
            return AdminResponse.Text(403, $"POST {request.Path} is answered only for clients on this host (loopback); set admin.allow_remote_control: true to allow others\n");
        }

        bool json = request.QueryValue("format") == "json";
        switch (request.Method, request.Path)
        {
            case ("GET", "/"):
                return AdminResponse.Text(200, Index);
            case ("GET", "/ready"):
                return runtime.IsReady
                    ? AdminResponse.Text(200, "ready\n")
                    : AdminResponse.Text(503, runtime.IsDraining ? "draining\n" : "not ready\n");
            case ("GET", "/metrics" or "/stats/prometheus"):
                return Metrics(registry);
            case ("GET", "/server_info"):
                return ServerInfoPage.Render(runtime, StartTimestamp, StartTime, ConfigPath);
            case ("GET", "/config"):
                return runtime.Current is { } snapshot
                    ? AdminResponse.Json(200, ConfigWriter.ToJson(snapshot.Config))
                    : AdminResponse.Text(503, "no configuration loaded\n");
            case ("GET", "/config_dump"):
                return ConfigDumpPage.Render(runtime.Current, ConfigPath, XdsDump);
            case ("GET", "/clusters"):
                return ClustersPage.Render(runtime.Current, json);
            case ("GET", "/listeners"):
                return ListenersPage.Render(runtime, json);
            case ("GET", "/certs"):
                return CertsPage.Render(runtime.Certificates, DateTimeOffset.UtcNow);
            case ("GET", "/logging"):
                return LoggingPage.Get(log);
            case ("POST", "/logging"):
                return LoggingPage.Set(log, request);
            case ("POST", "/drain"):
                await beginDrain().ConfigureAwait(false);
                return AdminResponse.Text(202, "draining\n");
            case ("POST", "/shutdown") when shutdown is not null:
                // Answer first; the drain and exit run after the response is on its way.
                _ = Task.Run(shutdown);
                return AdminResponse.Text(202, "shutting down\n");
            default:
                return Array.IndexOf(KnownPaths, request.Path) >= 0
                    ? AdminResponse.Text(405, "method not allowed\n")
                    : AdminResponse.Text(404, "unknown admin path; GET / lists them\n" + Index);
        }
    }

    /// <summary>The Prometheus text page, shared with the stats-only listener.</summary>
    public static AdminResponse Metrics(MetricsRegistry registry) =>
        new(200, "text/plain; version=0.0.4; charset=utf-8", registry.Render());
}
