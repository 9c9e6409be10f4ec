namespace Proxy.Tls;

/// <summary>
/// The ALPN tokens one sidecar offers another inside mutual TLS, naming the protocol carried inside so the server
/// sidecar need not sniff it. They are Istio's, so a mixed mesh reads them the same way: its client sidecars send
/// <c>istio-http/1.1</c>, <c>istio-h2</c> or <c>istio</c> (opaque) in the ClientHello of a meshed connection.
/// </summary>
public static class MeshAlpn
{
    /// <summary>HTTP/1.1 requests inside.</summary>
    public const string Http11 = "istio-http/1.1";

    /// <summary>HTTP/2 (prior knowledge) inside.</summary>
    public const string Http2 = "istio-h2";

    /// <summary>Opaque bytes inside.</summary>
    public const string Tcp = "istio";

    /// <summary>Opaque bytes inside, after both sides' workload metadata (<see cref="Observability.TcpPeerExchange"/>); offered before <see cref="Tcp"/>.</summary>
    public const string TcpWithPeerExchange = Observability.TcpPeerExchange.Alpn;

    /// <summary>
    /// What the server sidecar accepts: the four above, and plain <c>http/1.1</c> from older peers (then sniffed as
    /// before). The server's order decides, so the exchange wins over plain opaque when the client offers both.
    /// </summary>
    public static readonly string[] Accepted = [Http2, Http11, TcpWithPeerExchange, Tcp, "http/1.1"];
}
