namespace Proxy.Configuration;

/// <summary>Per-endpoint upstream connection pool settings.</summary>
public sealed record PoolConfig
{
    /// <summary>
    /// Most idle connections kept per endpoint (default 10000): a memory bound, not a working size.
    /// The pool keeps as many as were in use at once, and the idle timeout reaps them.
    /// </summary>
    public int MaxIdle { get; init; } = DefaultMaxIdle;

    /// <summary>The default of <see cref="MaxIdle"/>.</summary>
    public const int DefaultMaxIdle = 10_000;

    /// <summary>An idle pooled connection is closed after this long (default 60s).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests after which a connection is retired; 0 means unlimited (default).</summary>
    public int MaxRequestsPerConnection { get; init; }
}
