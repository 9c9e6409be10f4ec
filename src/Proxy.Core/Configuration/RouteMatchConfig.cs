namespace Proxy.Configuration;

/// <summary>The conditions a request must meet, all of them, to take a route.</summary>
public sealed record RouteMatchConfig
{
    /// <summary>Host (without port) to match, exact or with a leading <c>*.</c> wildcard; null for any.</summary>
    public string? Host { get; init; }

    /// <summary>Path prefix; null for any.</summary>
    public string? PathPrefix { get; init; }

    /// <summary>Exact path; null for any. Not combined with <see cref="PathPrefix"/>.</summary>
    public string? PathExact { get; init; }

    /// <summary>Header conditions, all of which must hold.</summary>
    public IReadOnlyList<HeaderMatchConfig> Headers { get; init; } = ConfigList<HeaderMatchConfig>.Empty;

    /// <summary>Allowed methods (upper case); empty for any.</summary>
    public IReadOnlyList<string> Methods { get; init; } = ConfigList<string>.Empty;
}
