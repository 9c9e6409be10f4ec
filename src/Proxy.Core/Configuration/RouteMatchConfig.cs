namespace Proxy.Configuration;

/// <summary>The conditions a request must meet, all of them, to take a route.</summary>
public sealed record RouteMatchConfig
{
    /// <summary>Host (without port) to match, exact or with a leading <c>*.</c> wildcard; null for any.</summary>
    public string? Host { get; init; }

    /// <summary>Path prefix; null for any.</summary>
    public string? PathPrefix { get; init; }

    /// <summary>Exact path; null for any. Not combined with <see cref="PathPrefix"/> or <see cref="PathRegex"/>.</summary>
    public string? PathExact { get; init; }

    /// <summary>A regular expression the whole path must match (Envoy's <c>safe_regex</c>); null for any.</summary>
    public string? PathRegex { get; init; }

    /// <summary>False compares <see cref="PathPrefix"/> and <see cref="PathExact"/> ignoring ASCII case (default true).</summary>
    public bool CaseSensitive { get; init; } = true;

    /// <summary>True takes only gRPC requests (content-type application/grpc).</summary>
    public bool Grpc { get; init; }

    /// <summary>Query parameter conditions, all of which must hold.</summary>
    public IReadOnlyList<QueryMatchConfig> Query { get; init; } = ConfigList<QueryMatchConfig>.Empty;

    /// <summary>Header conditions, all of which must hold.</summary>
    public IReadOnlyList<HeaderMatchConfig> Headers { get; init; } = ConfigList<HeaderMatchConfig>.Empty;

    /// <summary>Allowed methods (upper case); empty for any.</summary>
    public IReadOnlyList<string> Methods { get; init; } = ConfigList<string>.Empty;
}
