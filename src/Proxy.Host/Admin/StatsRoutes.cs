using Proxy.Observability.Metrics;

namespace Proxy.Host.Admin;

/// <summary>
/// The stats-only listener (<c>stats.address</c>, like Istio's 15090): Prometheus text on
/// GET /metrics and GET /stats/prometheus, nothing else, so a scraper can reach the metrics
/// without reaching the admin API (drain, shutdown, configuration, certificates).
/// </summary>
public sealed class StatsRoutes(MetricsRegistry registry)
{
    public Task<AdminResponse> HandleAsync(AdminRequest request) => Task.FromResult((request.Method, request.Path) switch
    {
        ("GET", "/metrics" or "/stats/prometheus") => AdminRoutes.Metrics(registry),
        (_, "/metrics" or "/stats/prometheus") => AdminResponse.Text(405, "method not allowed\n"),
        _ => AdminResponse.Text(404, "this is the stats listener: it serves GET /metrics and GET /stats/prometheus only\n"),
    });
}
