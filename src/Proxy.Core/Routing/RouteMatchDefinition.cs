namespace Proxy.Routing;

/// <summary>
/// The match half of a <see cref="RouteDefinition"/>. Unset parts match anything; set parts must all match.
/// </summary>
public sealed record RouteMatchDefinition
{
    /// <summary>A match with nothing set: every request.</summary>
    public static RouteMatchDefinition Any { get; } = new();

    /// <summary>
    /// Exact host ("api.example.com"), wildcard ("*.example.com": one or more labels before the
    /// suffix, so not "example.com" itself), or "*" for any host. Case-insensitive; the request's
    /// port is ignored, so the host must not carry one.
    /// </summary>
    public string? Host { get; init; }

    /// <summary>The whole path, byte for byte (case-sensitive, no query string). Not with <see cref="PathPrefix"/>.</summary>
    public string? PathExact { get; init; }

    /// <summary>
    /// A path prefix, case-sensitive. Segment-aware: "/api" matches "/api", "/api/" and "/api/x" but not
    /// "/apix". A prefix ending in '/' ("/api/", "/") is a plain byte prefix. Not with <see cref="PathExact"/>.
    /// </summary>
    public string? PathPrefix { get; init; }

    /// <summary>Header conditions; all must hold.</summary>
    public IReadOnlyList<HeaderMatchDefinition>? Headers { get; init; }

    /// <summary>Accepted methods ("GET", "POST"); case-sensitive (RFC 9110 section 9.1). Null or empty: any method.</summary>
    public IReadOnlyList<string>? Methods { get; init; }
}
