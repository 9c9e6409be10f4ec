using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>
/// The metric families of the proxy, registered once per process. Listener and cluster objects take
/// their labelled children from here when a snapshot is built, so the hot path only increments.
/// </summary>
public sealed class ProxyMetrics
{
    public ProxyMetrics(MetricsRegistry registry)
    {
        Registry = registry;
        ConnectionsOpened = registry.Counter("proxy_listener_connections_opened_total", "Downstream connections accepted.", "listener");
        ConnectionsClosed = registry.Counter("proxy_listener_connections_closed_total", "Downstream connections closed.", "listener");
        ConnectionsActive = registry.Gauge("proxy_listener_connections_active", "Downstream connections open now.", "listener");
        AcceptErrors = registry.Counter("proxy_listener_accept_errors_total", "Accept calls that failed (EMFILE, aborted connections).", "listener");
        IdleTimeouts = registry.Counter("proxy_listener_idle_timeouts_total", "Connections closed because no byte moved within the idle timeout.", "listener");
        NoFilterChain = registry.Counter("proxy_listener_no_filter_chain_total", "Connections closed because no filter chain matched them and the listener has no default chain, or their first bytes did not come within the listener filters timeout.", "listener");
        ReceivedBytes = registry.Counter("proxy_tcp_received_bytes_total", "Bytes received from downstream and sent upstream.", "listener", "cluster");
        SentBytes = registry.Counter("proxy_tcp_sent_bytes_total", "Bytes received from upstream and sent downstream.", "listener", "cluster");
        ConnectionDuration = registry.Histogram("proxy_tcp_connection_duration_milliseconds", "Lifetime of proxied TCP connections.", MetricsRegistry.MillisecondBuckets, "listener", "cluster");
        UpstreamConnections = registry.Counter("proxy_upstream_connections_total", "Upstream connections opened.", "cluster");
        UpstreamConnectFailures = registry.Counter("proxy_upstream_connect_failures_total", "Upstream connects that failed or timed out.", "cluster", "reason");
        UpstreamConnectDuration = registry.Histogram("proxy_upstream_connect_duration_milliseconds", "Time to establish upstream connections.", MetricsRegistry.MillisecondBuckets, "cluster");
        NoHealthyEndpoint = registry.Counter("proxy_upstream_no_healthy_endpoint_total", "Picks that found no healthy endpoint.", "cluster");
        PoolIdle = registry.Gauge("proxy_upstream_pool_idle_connections", "Idle pooled upstream HTTP/1.1 connections (sampled each second).", "cluster");
        ConfigReloads = registry.Counter("proxy_config_reloads_total", "Configuration reloads by result.", "result");
        Requests = new RequestMetricFamilies(registry);
        Resilience = new Resilience.ResilienceMetrics(registry);
        string[] istioTcp =
        [
            "reporter", "listener",
            "source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
            "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
            "destination_service", "destination_service_name", "destination_service_namespace",
            "request_protocol", "response_flags", "connection_security_policy",
        ];
        IstioTcpOpened = registry.Counter("istio_tcp_connections_opened_total", "TCP connections opened (Istio standard family).", istioTcp);
        IstioTcpClosed = registry.Counter("istio_tcp_connections_closed_total", "TCP connections closed (Istio standard family).", istioTcp);
        IstioTcpReceived = registry.Counter("istio_tcp_received_bytes_total", "Bytes received from downstream (Istio standard family).", istioTcp);
        IstioTcpSent = registry.Counter("istio_tcp_sent_bytes_total", "Bytes sent to downstream (Istio standard family).", istioTcp);
        Http2Defences = registry.Counter("proxy_http2_defence_triggered_total", "HTTP/2 connections ended by an abuse defence (rapid reset, floods, window overflow).", "listener", "defence");
        UpstreamRetries = registry.Counter("proxy_upstream_retries_total", "Requests retried on a fresh connection after a reused one failed before any response byte.", "cluster");
    }

    public RequestMetricFamilies Requests { get; }

    public CounterFamily IstioTcpOpened { get; }

    public CounterFamily IstioTcpClosed { get; }

    public CounterFamily IstioTcpReceived { get; }

    public CounterFamily IstioTcpSent { get; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Listener, string Cluster), TcpStreamMetrics> _tcpStreams = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TcpStreamKey, TcpStreamMetrics> _sidecarTcpStreams = new();

    /// <summary>The cached TCP stream metrics of (listener, cluster): found per connection without allocating.</summary>
    public TcpStreamMetrics TcpStream(string listener, string cluster) =>
        _tcpStreams.TryGetValue((listener, cluster), out var existing)
            ? existing
            : _tcpStreams.GetOrAdd((listener, cluster), static (k, metrics) =>
                new TcpStreamMetrics(metrics, new TcpStreamKey(k.Listener, k.Cluster, "source", WorkloadLabels.Unknown, PeerLabels.Unknown, ServiceLabels.Of(k.Cluster))), this);

    /// <summary>
    /// The cached TCP stream metrics of a sidecar's stream: <paramref name="local"/> on the <paramref name="reporter"/>'s
    /// side, <paramref name="peer"/> on the other.
    /// </summary>
    public TcpStreamMetrics TcpStream(string listener, string cluster, string reporter, WorkloadLabels local, PeerLabels peer, ServiceLabels? service = null)
    {
        var key = new TcpStreamKey(listener, cluster, reporter, local, peer, service ?? ServiceLabels.Of(cluster));
        return _sidecarTcpStreams.TryGetValue(key, out var existing)
            ? existing
            : _sidecarTcpStreams.GetOrAdd(key, static (k, metrics) => new TcpStreamMetrics(metrics, k), this);
    }

    /// <summary>Retries, budgets, breakers, ejections, health checks, rate limits, faults, mirrors.</summary>
    public Resilience.ResilienceMetrics Resilience { get; }

    public CounterFamily UpstreamRetries { get; }

    /// <summary>HTTP/2 abuse defences that ended a downstream connection, by listener and defence.</summary>
    public CounterFamily Http2Defences { get; }

    public MetricsRegistry Registry { get; }

    public CounterFamily ConnectionsOpened { get; }

    public CounterFamily ConnectionsClosed { get; }

    public GaugeFamily ConnectionsActive { get; }

    public CounterFamily AcceptErrors { get; }

    public CounterFamily IdleTimeouts { get; }

    public CounterFamily NoFilterChain { get; }

    public CounterFamily ReceivedBytes { get; }

    public CounterFamily SentBytes { get; }

    public HistogramFamily ConnectionDuration { get; }

    public CounterFamily UpstreamConnections { get; }

    public CounterFamily UpstreamConnectFailures { get; }

    public HistogramFamily UpstreamConnectDuration { get; }

    public CounterFamily NoHealthyEndpoint { get; }

    public CounterFamily ConfigReloads { get; }

    public GaugeFamily PoolIdle { get; }
}
