using Proxy.Observability.Metrics;

namespace Proxy.Xds;

/// <summary>
/// The xDS client's metrics: whether the stream (and each SDS server's) is up, and per resource type (cds, eds, sds, lds, rds) the updates accepted and
/// rejected, a hash of the last accepted version (as Envoy's <c>version</c> stat; the text is in /config_dump) and
/// when it was accepted.
/// </summary>
public sealed class XdsMetrics
{
    private readonly CounterFamily _updates;
    private readonly GaugeFamily _version;
    private readonly GaugeFamily _lastUpdate;
    private readonly GaugeFamily _secretServerConnected;
    private readonly CounterFamily _secretServerFailures;

    public XdsMetrics(MetricsRegistry registry)
    {
        Connected = registry.Gauge("proxy_xds_connected", "1 while the ADS stream to the management server is open, else 0.").WithLabels();
        Reconnects = registry.Counter("proxy_xds_stream_failures_total", "ADS streams that failed or could not be opened (each is followed by a backoff and a new attempt).").WithLabels();
        _updates = registry.Counter("proxy_xds_updates_total", "xDS responses by resource type and result (accepted: ACKed and serving; rejected: NACKed, the previous version keeps serving).", "type", "result");
        _version = registry.Gauge("proxy_xds_version_hash", "A hash of the last accepted version_info per resource type (the text is in /config_dump).", "type");
        _lastUpdate = registry.Gauge("proxy_xds_last_update_timestamp_seconds", "Unix time of the last accepted update per resource type.", "type");
        _secretServerConnected = registry.Gauge("proxy_xds_secret_server_connected", "1 while the SDS stream to a server of xds.secret_servers is open, else 0.", "server");
        _secretServerFailures = registry.Counter("proxy_xds_secret_server_stream_failures_total", "SDS streams to a server of xds.secret_servers that failed or could not be opened.", "server");
    }

    /// <summary>Whether the SDS stream to <paramref name="server"/> (of <c>xds.secret_servers</c>) is open.</summary>
    public Gauge SecretServerConnected(string server) => _secretServerConnected.WithLabels(server);

    /// <summary>The failed SDS streams to <paramref name="server"/>.</summary>
    public Counter SecretServerFailures(string server) => _secretServerFailures.WithLabels(server);

    public Gauge Connected { get; }

    public Counter Reconnects { get; }

    public void Accepted(string type, string version, DateTimeOffset now)
    {
        _updates.WithLabels(type, "accepted").Increment();
        _version.WithLabels(type).Set(Hash(version));
        _lastUpdate.WithLabels(type).Set(now.ToUnixTimeSeconds());
    }

    public void Rejected(string type) => _updates.WithLabels(type, "rejected").Increment();

    /// <summary>FNV-1a over the UTF-16 code units, kept positive so it reads the same in every scraper.</summary>
    private static long Hash(string text)
    {
        ulong hash = 14695981039346656037;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return (long)(hash & long.MaxValue);
    }
}
