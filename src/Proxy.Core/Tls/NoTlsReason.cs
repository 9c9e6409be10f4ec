namespace Proxy.Tls;

/// <summary>Why a connection carries no authenticated peer identity.</summary>
public enum NoTlsReason
{
    /// <summary>The peer spoke plain text (no TLS ClientHello was seen).</summary>
    Plaintext,

    /// <summary>The destination port is configured opaque, so no detection was attempted.</summary>
    OpaquePort,

    /// <summary>The peer sent nothing within the detection timeout (a server-first protocol).</summary>
    DetectTimeout,

    /// <summary>TLS was negotiated but the peer sent no client certificate.</summary>
    NoClientCertificate,

    /// <summary>The peer's certificate has no valid SPIFFE URI SAN.</summary>
    NoSpiffeId,

    /// <summary>The connection came from the local host (not intercepted mesh traffic).</summary>
    Loopback,
}
