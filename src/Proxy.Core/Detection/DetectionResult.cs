namespace Proxy.Detection;

/// <summary>
/// The outcome of protocol detection: the protocol, and for TLS the server name and ALPN protocols
/// the ClientHello offered. Detection never consumes input; the caller reads it all again.
/// </summary>
public readonly record struct DetectionResult(DetectedProtocol Protocol, string? ServerName = null, IReadOnlyList<string>? Alpn = null, OpaqueReason Reason = OpaqueReason.None)
{
    /// <summary>Input so far is a prefix of a known protocol.</summary>
    public static DetectionResult NeedMore => new(DetectedProtocol.NeedMore);

    public static DetectionResult Http1 => new(DetectedProtocol.Http1);

    public static DetectionResult Http2 => new(DetectedProtocol.Http2);

    /// <summary>Opaque, with why.</summary>
    public static DetectionResult Opaque(OpaqueReason reason) => new(DetectedProtocol.Opaque, Reason: reason);

    public override string ToString() => Protocol switch
    {
        DetectedProtocol.Tls => $"tls (sni={ServerName ?? "-"}, alpn={(Alpn is null ? "-" : string.Join(",", Alpn))})",
        DetectedProtocol.Opaque => $"opaque ({Reason})",
        _ => Protocol.ToString().ToLowerInvariant(),
    };
}
