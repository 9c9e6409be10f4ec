using System.Net;

namespace Proxy.Configuration;

/// <summary>
/// The conditions of one filter chain (Envoy's <c>filter_chain_match</c>); an empty list or a null value matches any
/// connection. Chains are chosen by these fields in this order, the most specific match winning at each step
/// (Envoy's order: destination port, destination address, server name, transport protocol, application protocols, then the source).
/// </summary>
public sealed record FilterChainMatchConfig
{
    public static FilterChainMatchConfig Any { get; } = new();

    /// <summary>The connection's destination port (the original destination's behind an original_dst listener filter).</summary>
    public int? DestinationPort { get; init; }

    /// <summary>Ranges of the connection's destination address; the longest matching prefix wins.</summary>
    public IReadOnlyList<IPNetwork> PrefixRanges { get; init; } = [];

    /// <summary>The TLS server name (SNI): exact names, or <c>*.example.com</c> wildcards (the longest suffix wins).</summary>
    public IReadOnlyList<string> ServerNames { get; init; } = [];

    /// <summary><c>tls</c> or <c>raw_buffer</c>, as detected on the connection's first bytes; null for either.</summary>
    public string? TransportProtocol { get; init; }

    /// <summary>ALPN protocols of the ClientHello (or <c>http/1.1</c>, <c>h2c</c> detected on plain text); one must match.</summary>
    public IReadOnlyList<string> ApplicationProtocols { get; init; } = [];

    /// <summary>Ranges of the peer's address.</summary>
    public IReadOnlyList<IPNetwork> DirectSourcePrefixRanges { get; init; } = [];

    public ConnectionSourceType SourceType { get; init; } = ConnectionSourceType.Any;

    /// <summary>Ranges of the source address (the peer's: the proxy reads no PROXY protocol header).</summary>
    public IReadOnlyList<IPNetwork> SourcePrefixRanges { get; init; } = [];

    public IReadOnlyList<int> SourcePorts { get; init; } = [];

    /// <summary>Whether choosing by this match needs the connection's first bytes (TLS, SNI, ALPN).</summary>
    public bool NeedsInspection => ServerNames.Count > 0 || TransportProtocol is not null || ApplicationProtocols.Count > 0;
}
