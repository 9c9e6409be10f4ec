namespace Proxy.Configuration;

/// <summary>Limits on concurrent work against a cluster; beyond them requests fail fast with 503.</summary>
public sealed record CircuitBreakerConfig
{
    /// <summary>Most upstream connections (default 1024).</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Most requests waiting for a connection (default 1024).</summary>
    public int MaxPendingRequests { get; init; } = 1024;

    /// <summary>Most requests in flight (default 1024).</summary>
    public int MaxRequests { get; init; } = 1024;

    /// <summary>Most retries in flight (default 3).</summary>
    public int MaxRetries { get; init; } = 3;
}
