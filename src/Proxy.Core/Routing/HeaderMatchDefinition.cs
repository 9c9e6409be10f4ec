namespace Proxy.Routing;

/// <summary>
/// One header condition of a route match. The name is case-insensitive (compiled to lowercase);
/// <see cref="Value"/> is the exact value or the regex pattern, and null for <see cref="HeaderMatchKind.Present"/>.
/// </summary>
/// <param name="Name">Header field name (an RFC 9110 section 5.6.2 token).</param>
/// <param name="Kind">How the value is tested.</param>
/// <param name="Value">Exact value, or regex pattern (anchored: it must match the whole value).</param>
public sealed record HeaderMatchDefinition(string Name, HeaderMatchKind Kind, string? Value = null)
{
    /// <summary>The header's value must equal <paramref name="value"/> exactly.</summary>
    public static HeaderMatchDefinition Exact(string name, string value) => new(name, HeaderMatchKind.Exact, value);

    /// <summary>The header must be present.</summary>
    public static HeaderMatchDefinition Present(string name) => new(name, HeaderMatchKind.Present);

    /// <summary>The header's whole value must match <paramref name="pattern"/>.</summary>
    public static HeaderMatchDefinition Regex(string name, string pattern) => new(name, HeaderMatchKind.Regex, pattern);
}
