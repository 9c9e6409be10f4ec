namespace Proxy.Configuration;

/// <summary>A route: a match and an action (one cluster or a weighted split) with its policies.</summary>
public sealed record RouteConfig
{
    /// <summary>Optional name, for metrics and logs.</summary>
    public string? Name { get; init; }

    /// <summary>What requests this route takes (default: all).</summary>
    public RouteMatchConfig Match { get; init; } = new();

    /// <summary>The target cluster; exactly one of this and <see cref="Split"/> is set.</summary>
    public string? Cluster { get; init; }

    /// <summary>Weighted targets; empty when <see cref="Cluster"/> is set.</summary>
    public IReadOnlyList<WeightedClusterConfig> Split { get; init; } = ConfigList<WeightedClusterConfig>.Empty;

    /// <summary>Whole-request timeout including retries; null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Retry policy; null for no retries.</summary>
    public RetryConfig? Retries { get; init; }

    /// <summary>Fault injection; null for none.</summary>
    public FaultConfig? Fault { get; init; }

    /// <summary>Traffic mirroring; null for none.</summary>
    public MirrorConfig? Mirror { get; init; }

    /// <summary>Per-route rate limit; null for none.</summary>
    public RateLimitConfig? RateLimit { get; init; }
}
