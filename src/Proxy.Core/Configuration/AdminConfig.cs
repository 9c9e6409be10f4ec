namespace Proxy.Configuration;

/// <summary>The admin server: /ready, /metrics, /config, /clusters, /drain and the rest.</summary>
public sealed record AdminConfig
{
    /// <summary>Where the admin server listens (default 127.0.0.1:15000; keep it on loopback: a warning is logged otherwise).</summary>
    public HostPort Address { get; init; } = new("127.0.0.1", 15000);

    /// <summary>
    /// Whether clients not on this host may use the POST endpoints (/drain, /shutdown, /logging);
    /// off by default, so an admin port reachable from the network cannot drain or stop the proxy.
    /// </summary>
    public bool AllowRemoteControl { get; init; }
}
