namespace Proxy.Configuration;

/// <summary>
/// The stats-only listener (<c>stats</c>): Prometheus text on /metrics and /stats/prometheus and
/// nothing else, so scrapers can reach metrics without reaching the admin API (Istio's port 15090).
/// </summary>
public sealed record StatsConfig
{
    /// <summary>Where it listens, e.g. <c>0.0.0.0:15090</c>.</summary>
    public required HostPort Address { get; init; }
}
