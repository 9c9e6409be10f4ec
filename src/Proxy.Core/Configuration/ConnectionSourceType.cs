namespace Proxy.Configuration;

/// <summary>Envoy's <c>filter_chain_match.source_type</c>: where a connection comes from.</summary>
public enum ConnectionSourceType
{
    /// <summary>Any source.</summary>
    Any,

    /// <summary>A loopback source, or one equal to the connection's destination address (the same host).</summary>
    SameIpOrLoopback,

    /// <summary>Any other source.</summary>
    External,
}
