namespace Proxy.Configuration;

/// <summary>The admin server: /ready, /metrics, /config, /drain.</summary>
public sealed record AdminConfig
{
    /// <summary>Where the admin server listens (default 127.0.0.1:15000; keep it on loopback).</summary>
    public HostPort Address { get; init; } = new("127.0.0.1", 15000);
}
