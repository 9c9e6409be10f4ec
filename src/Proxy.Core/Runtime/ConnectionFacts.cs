using System.Net;

namespace Proxy.Runtime;

/// <summary>
/// What a filter chain is chosen by: the connection's addresses, and what its first bytes showed (a TLS
/// ClientHello's server name and ALPN list, or the HTTP version spoken in plain text). Nothing here is consumed.
/// </summary>
public readonly record struct ConnectionFacts(IPEndPoint Destination, IPEndPoint Source)
{
    /// <summary><c>tls</c> or <c>raw_buffer</c>; null while the first bytes have not been looked at.</summary>
    public string? TransportProtocol { get; init; }

    public string? ServerName { get; init; }

    public IReadOnlyList<string> ApplicationProtocols { get; init; } = [];
}
