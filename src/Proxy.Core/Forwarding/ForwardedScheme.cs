using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// The schemes the forwarders write: X-Forwarded-Proto names the client's connection to the proxy, an HTTP/2
/// upstream's <c>:scheme</c> the proxy's connection to it. Static literals, so choosing one allocates nothing.
/// </summary>
internal static class ForwardedScheme
{
    /// <summary>
    /// The X-Forwarded-Proto of a client connection: <c>https</c> when the proxy terminated TLS on it (an edge TLS
    /// listener, or mesh mTLS inbound), else <c>http</c>. It replaces whatever the client sent, as Envoy does for
    /// clients it does not trust.
    /// </summary>
    public static ReadOnlySpan<byte> OfDownstream(bool tls) => tls ? "https"u8 : "http"u8;

    /// <summary>
    /// The <c>:scheme</c> of a request to an HTTP/2 upstream: that of the connection it travels on (RFC 9113 8.3.1),
    /// <c>https</c> when the proxy originates TLS to that endpoint, whatever scheme the client used (Envoy's
    /// <c>match_upstream</c>). Per endpoint, not per cluster: a cluster whose transport_socket_matches leave some
    /// endpoints in plain text (Istio's <c>tlsMode-disabled</c>) sends them <c>http</c>.
    /// </summary>
    public static ReadOnlySpan<byte> OfUpstream(Cluster cluster, Endpoint endpoint) => cluster.Settings.TlsFor(endpoint) is not null ? "https"u8 : "http"u8;
}
