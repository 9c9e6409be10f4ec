using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>
/// The metrics of TCP streams from one listener to one cluster, resolved once and cached, so a
/// new connection finds them with one dictionary lookup and no string building. Both the proxy's
/// own names and Istio's <c>istio_tcp_*</c> families are kept.
/// </summary>
public sealed class TcpStreamMetrics
{
    public TcpStreamMetrics(ProxyMetrics metrics, string listener, string cluster)
    {
        Received = metrics.ReceivedBytes.WithLabels(listener, cluster);
        Sent = metrics.SentBytes.WithLabels(listener, cluster);
        Duration = metrics.ConnectionDuration.WithLabels(listener, cluster);
        string[] istio = ["source", listener, cluster, "tcp", "-", "none"];
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
