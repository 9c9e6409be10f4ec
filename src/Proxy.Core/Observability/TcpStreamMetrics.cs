using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>
/// The metrics of TCP streams from one listener to one cluster (in a sidecar, between two workloads), resolved once
/// and cached, so a new connection finds them with one dictionary lookup and no string building. Both the proxy's
/// own names and Istio's <c>istio_tcp_*</c> families, with Istio's labels, are kept.
/// </summary>
public sealed class TcpStreamMetrics
{
    public TcpStreamMetrics(ProxyMetrics metrics, TcpStreamKey key)
    {
        Received = metrics.ReceivedBytes.WithLabels(key.Listener, key.Cluster);
        Sent = metrics.SentBytes.WithLabels(key.Listener, key.Cluster);
        Duration = metrics.ConnectionDuration.WithLabels(key.Listener, key.Cluster);
        bool source = key.Reporter == "source";
        var from = source ? key.Local : key.Peer.Workload;
        var to = source ? key.Peer.Workload : key.Local;
        string[] istio =
        [
            key.Reporter, key.Listener,
            from.Workload, from.Namespace, from.Principal, from.App, from.Version,
            to.Workload, to.Namespace, to.Principal, to.App, to.Version,
            key.Service.Host, key.Service.Name, key.Service.Namespace,
            "tcp", "-", key.Peer.SecurityPolicy,
        ];
        IstioOpened = metrics.IstioTcpOpened.WithLabels(istio);
        IstioClosed = metrics.IstioTcpClosed.WithLabels(istio);
        IstioReceived = metrics.IstioTcpReceived.WithLabels(istio);
        IstioSent = metrics.IstioTcpSent.WithLabels(istio);
    }

    /// <summary>Bytes from downstream, sent upstream.</summary>
    public Counter Received { get; }

    /// <summary>Bytes from upstream, sent downstream.</summary>
    public Counter Sent { get; }

    public Histogram Duration { get; }

    public Counter IstioOpened { get; }

    public Counter IstioClosed { get; }

    public Counter IstioReceived { get; }

    public Counter IstioSent { get; }
}
