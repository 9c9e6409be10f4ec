using System.Text;
using Proxy.Configuration;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Host.Admin;

/// <summary>What each admin path answers. Kept apart from the socket code so it reads as a table.</summary>
/// <param name="shutdown">Drains and then ends the process (POST /shutdown); null disables the path.</param>
public sealed class AdminRoutes(ProxyRuntime runtime, MetricsRegistry registry, Func<Task> beginDrain, Func<Task>? shutdown = null)
{
    public async Task<AdminResponse> HandleAsync(string method, string target)
    {
        var path = target.Split('?', 2)[0];
        switch (method, path)
        {
            case ("GET", "/ready"):
                return runtime.IsReady
                    ? AdminResponse.Text(200, "ready\n")
                    : AdminResponse.Text(503, runtime.IsDraining ? "draining\n" : "not ready\n");
            case ("GET", "/metrics"):
                return new AdminResponse(200, "text/plain; version=0.0.4; charset=utf-8", registry.Render());
            case ("GET", "/config"):
                return runtime.Current is { } snapshot
                    ? AdminResponse.Json(200, ConfigWriter.ToJson(snapshot.Config))
                    : AdminResponse.Text(503, "no configuration loaded\n");
            case ("GET", "/clusters"):
                return AdminResponse.Text(200, RenderClusters());
            case ("POST", "/drain"):
                await beginDrain().ConfigureAwait(false);
                return AdminResponse.Text(202, "draining\n");
            case ("POST", "/shutdown") when shutdown is not null:
                // Answer first; the drain and exit run after the response is on its way.
                _ = Task.Run(shutdown);
                return AdminResponse.Text(202, "shutting down\n");
            case (_, "/ready" or "/metrics" or "/config" or "/clusters" or "/drain" or "/shutdown"):
                return AdminResponse.Text(405, "method not allowed\n");
            default:
                return AdminResponse.Text(404, "unknown admin path; try /ready /metrics /config /clusters, POST /drain, POST /shutdown\n");
        }
    }

    private string RenderClusters()
    {
        var output = new StringBuilder();
        if (runtime.Current is not { } snapshot)
        {
            return "no configuration loaded\n";
        }

        foreach (var cluster in snapshot.Clusters.Values)
        {
            foreach (var endpoint in cluster.Endpoints)
            {
                // One line per endpoint, Envoy's /clusters style: cluster::endpoint::key=value...
                var health = endpoint.Health;
                output.Append(cluster.Name).Append("::").Append(endpoint.Authority)
                      .Append("::healthy=").Append(endpoint.IsHealthy ? "true" : "false")
                      .Append("::active_check=").Append(health.IsActiveUnhealthy ? "failed" : "passed")
                      .Append("::ejected=").Append(health.IsEjected ? "true" : "false")
                      .Append("::ejections=").Append(health.Ejections)
                      .Append("::weight=").Append(endpoint.Weight)
                      .Append("::in_flight=").Append(endpoint.InFlight)
                      .Append("::latency_ewma_ms=").Append(endpoint.LatencyEstimateMs(System.Diagnostics.Stopwatch.GetTimestamp()).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture))
                      .Append("::pooled_idle=").Append(endpoint.HasPool ? endpoint.Pool.IdleCount : 0)
                      .Append('\n');
            }
        }

        return output.ToString();
    }
}
