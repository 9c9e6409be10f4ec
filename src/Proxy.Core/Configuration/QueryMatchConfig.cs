namespace Proxy.Configuration;

/// <summary>One query parameter condition (Envoy's <c>QueryParameterMatcher</c>).</summary>
public sealed record QueryMatchConfig
{
    /// <summary>Parameter name, compared case-sensitively with the request's percent-decoded name.</summary>
    public required string Name { get; init; }

    /// <summary>How the value is compared.</summary>
    public QueryMatchKind Kind { get; init; } = QueryMatchKind.Exact;

    /// <summary>The string, prefix or regex; null for <see cref="QueryMatchKind.Present"/>.</summary>
    public string? Value { get; init; }
}
