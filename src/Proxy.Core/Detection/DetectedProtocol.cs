namespace Proxy.Detection;

/// <summary>What the first bytes of a connection say it is.</summary>
public enum DetectedProtocol
{
    /// <summary>Not enough bytes yet to tell (the input so far is a prefix of something known).</summary>
    NeedMore,

    /// <summary>A TLS ClientHello (RFC 8446, 4.1.2).</summary>
    Tls,

    /// <summary>The HTTP/2 connection preface (RFC 9113, 3.4).</summary>
    Http2,

    /// <summary>An HTTP/1.x request line (RFC 9112, 3).</summary>
    Http1,

    /// <summary>Anything else, including silence until the timeout: forwarded as opaque TCP.</summary>
    Opaque,
}
