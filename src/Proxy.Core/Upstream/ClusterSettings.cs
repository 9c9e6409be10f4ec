namespace Proxy.Upstream;

/// <summary>The per-cluster settings the forwarders read, copied from configuration.</summary>
public sealed record ClusterSettings
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a TCP stream may go without a byte in either direction.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary><c>header:NAME</c> or <c>client_ip</c>: the hash key of ring_hash and maglev.</summary>
    public string? HashOn { get; init; }

    /// <summary>Whether requests go in the client's own HTTP version (<see cref="Configuration.ClusterProtocol.Downstream"/>).</summary>
    public bool FollowsDownstream { get; init; }

    /// <summary>TLS originated to the endpoints; null for plain text.</summary>
    public Tls.TlsClientPolicy? Tls { get; init; }

    /// <summary>The TLS originated to <paramref name="endpoint"/>: the cluster's, unless the endpoint is plain text.</summary>
    public Tls.TlsClientPolicy? TlsFor(Endpoint endpoint) => endpoint.PlainText ? null : Tls;
}
