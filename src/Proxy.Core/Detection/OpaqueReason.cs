namespace Proxy.Detection;

/// <summary>Why a connection was classified opaque.</summary>
public enum OpaqueReason
{
    /// <summary>Not opaque.</summary>
    None,

    /// <summary>The bytes match no known protocol.</summary>
    Unrecognised,

    /// <summary>Nothing (or not enough) arrived within the detection timeout: likely a server-first protocol.</summary>
    Timeout,

    /// <summary>The destination port is configured opaque; no detection was attempted.</summary>
    OpaquePort,

    /// <summary>The peer closed before sending enough to tell.</summary>
    Closed,
}
