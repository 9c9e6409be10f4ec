namespace Proxy.Configuration;

/// <summary>Per-endpoint upstream connection pool settings.</summary>
public sealed record PoolConfig
{
    /// <summary>Most idle connections kept per endpoint (default 64).</summary>
    public int MaxIdle { get; init; } = 256;

    /// <summary>An idle pooled connection is closed after this long (default 60s).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests after which a connection is retired; 0 means unlimited (default).</summary>
    public int MaxRequestsPerConnection { get; init; }
}
