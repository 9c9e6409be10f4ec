namespace Proxy.Configuration;

/// <summary>One upstream address of a cluster.</summary>
public sealed record EndpointConfig
{
    /// <summary>The address to dial.</summary>
    public required HostPort Address { get; init; }

    /// <summary>Relative weight, 1 or more (default 1).</summary>
    public int Weight { get; init; } = 1;

    /// <summary>
    /// Plain text to this endpoint even when its cluster has <c>tls</c>: the xDS client sets it for endpoints whose
    /// metadata chooses a raw transport socket (Istio's <c>transport_socket_matches</c> on <c>tlsMode</c>).
    /// </summary>
    public bool PlainText { get; init; }
}
