namespace Proxy.Forwarding;

/// <summary>
/// The schemes the forwarders write: X-Forwarded-Proto names the client's connection to the proxy. Static literals,
/// so choosing one allocates nothing.
/// </summary>
internal static class ForwardedScheme
{
    /// <summary>
    /// The X-Forwarded-Proto of a client connection: <c>https</c> when the proxy terminated TLS on it (an edge TLS
    /// listener, or mesh mTLS inbound), else <c>http</c>. It replaces whatever the client sent, as Envoy does for
    /// clients it does not trust.
    /// </summary>
    public static ReadOnlySpan<byte> OfDownstream(bool tls) => tls ? "https"u8 : "http"u8;
}
