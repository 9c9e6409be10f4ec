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

    /// <summary>Changes to the request's fields before it is forwarded; null for none.</summary>
    public HeaderChangesConfig? RequestHeaders { get; init; }

    /// <summary>Changes to the upstream response's fields before they are relayed; null for none.</summary>
    public HeaderChangesConfig? ResponseHeaders { get; init; }

    /// <summary>Replaces the part of the path the route's path match took (Envoy's <c>prefix_rewrite</c>); null for none.</summary>
    public string? PrefixRewrite { get; init; }

    /// <summary>Rewrites the path by regular expression (Envoy's <c>regex_rewrite</c>); null for none.</summary>
    public RegexRewriteConfig? RegexRewrite { get; init; }

    /// <summary>The Host (<c>:authority</c>) sent upstream in place of the client's (Envoy's <c>host_rewrite_literal</c>); null to keep it.</summary>
    public string? HostRewrite { get; init; }

    /// <summary>Sends the chosen endpoint's host and port as Host (Envoy's <c>auto_host_rewrite</c>).</summary>
    public bool AutoHostRewrite { get; init; }
}
