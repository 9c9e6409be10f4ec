namespace Proxy.Routing;

/// <summary>
/// One header condition of a route match. The name is case-insensitive (compiled to lowercase);
/// <see cref="Value"/> is the exact value, the prefix or the regex pattern, and null for
/// <see cref="HeaderMatchKind.Present"/> and <see cref="HeaderMatchKind.Absent"/>.
/// </summary>
/// <param name="Name">Header field name (an RFC 9110 section 5.6.2 token).</param>
/// <param name="Kind">How the value is tested.</param>
/// <param name="Value">Exact value, prefix, or regex pattern (anchored: it must match the whole value).</param>
public sealed record HeaderMatchDefinition(string Name, HeaderMatchKind Kind, string? Value = null)
{
    /// <summary>
    /// Inverts the outcome (Envoy's <c>HeaderMatcher.invert_match</c>): the condition holds when the matcher would
    /// not, a missing header included, so <c>exact: "1", invert: true</c> matches a request without the header.
    /// </summary>
    public bool Invert { get; init; }

    /// <summary>The header's value must equal <paramref name="value"/> exactly.</summary>
    public static HeaderMatchDefinition Exact(string name, string value) => new(name, HeaderMatchKind.Exact, value);

    /// <summary>The header must be present.</summary>
    public static HeaderMatchDefinition Present(string name) => new(name, HeaderMatchKind.Present);

    /// <summary>The header must be absent.</summary>
    public static HeaderMatchDefinition Absent(string name) => new(name, HeaderMatchKind.Absent);

    /// <summary>The header's value must start with <paramref name="prefix"/>.</summary>
    public static HeaderMatchDefinition Prefix(string name, string prefix) => new(name, HeaderMatchKind.Prefix, prefix);

    /// <summary>The header's whole value must match <paramref name="pattern"/>.</summary>
    public static HeaderMatchDefinition Regex(string name, string pattern) => new(name, HeaderMatchKind.Regex, pattern);
}
