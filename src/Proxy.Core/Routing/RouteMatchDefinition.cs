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

    /// <summary>The whole path, byte for byte (case-sensitive, no query string). Not with the other path kinds.</summary>
    public string? PathExact { get; init; }

    /// <summary>
    /// A path prefix, case-sensitive. Segment-aware: "/api" matches "/api", "/api/" and "/api/x" but not
    /// "/apix". A prefix ending in '/' ("/api/", "/") is a plain byte prefix. Not with the other path kinds.
    /// </summary>
    public string? PathPrefix { get; init; }

    /// <summary>
    /// A regular expression the whole path must match (Envoy's <c>RouteMatch.safe_regex</c>), run with
    /// <c>RegexOptions.NonBacktracking</c>, so matching is linear in the path. Not with the other path kinds.
    /// </summary>
    public string? PathRegex { get; init; }

    /// <summary>False compares <see cref="PathExact"/> and <see cref="PathPrefix"/> ignoring ASCII case (Envoy's <c>case_sensitive</c>).</summary>
    public bool CaseSensitive { get; init; } = true;

    /// <summary>Query parameter conditions (Envoy's <c>query_parameters</c>); all must hold.</summary>
    public IReadOnlyList<QueryMatchDefinition>? Query { get; init; }

    /// <summary>
    /// Only gRPC requests (Envoy's <c>RouteMatch.grpc</c>): content-type is application/grpc, alone or followed by
    /// '+' or ';' ("application/grpc+proto").
    /// </summary>
    public bool Grpc { get; init; }

    /// <summary>Header conditions; all must hold.</summary>
    public IReadOnlyList<HeaderMatchDefinition>? Headers { get; init; }

    /// <summary>Accepted methods ("GET", "POST"); case-sensitive (RFC 9110 section 9.1). Null or empty: any method.</summary>
    public IReadOnlyList<string>? Methods { get; init; }
}
