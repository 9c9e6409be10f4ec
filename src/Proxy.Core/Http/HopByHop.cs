namespace Proxy.Http;

/// <summary>
/// Hop-by-hop rules (RFC 9110 7.6.1): fields that describe one connection and must not be
/// forwarded. Besides the fixed list below, every field named by a Connection token is hop-by-hop
/// for that message; the HTTP/1 parser marks those while parsing.
/// </summary>
public static class HopByHop
{
    /// <summary>
    /// True for the fields that are always hop-by-hop: Connection, Keep-Alive, TE, Trailer,
    /// Transfer-Encoding, Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, and Upgrade.
    /// Upgrade is forwarded only while the proxy itself is relaying an upgrade (see the head writer).
    /// </summary>
    public static bool IsAlwaysHopByHop(KnownHeader header) => header is
        KnownHeader.Connection or KnownHeader.KeepAlive or KnownHeader.TE or KnownHeader.Trailer
        or KnownHeader.TransferEncoding or KnownHeader.ProxyConnection or KnownHeader.ProxyAuthenticate
        or KnownHeader.ProxyAuthorization or KnownHeader.Upgrade;

    /// <summary>Same as <see cref="IsAlwaysHopByHop(KnownHeader)"/> for a raw field name.</summary>
    public static bool IsAlwaysHopByHop(ReadOnlySpan<byte> name) => IsAlwaysHopByHop(KnownHeaders.Classify(name));

    /// <summary>
    /// Whether a Connection token may remove the field it names. Host is never removed: a client
    /// (or attacker) sending "Connection: host" must not make the proxy forward a request without
    /// a Host. Framing fields are always re-derived by the proxy, so naming them changes nothing.
    /// </summary>
    public static bool MayBeNamedByConnection(KnownHeader header) => header != KnownHeader.Host;
}
