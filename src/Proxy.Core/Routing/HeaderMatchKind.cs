namespace Proxy.Routing;

/// <summary>How a <see cref="HeaderMatchDefinition"/> tests a request header.</summary>
public enum HeaderMatchKind
{
    /// <summary>The header is present and its value equals the configured bytes exactly (case-sensitive).</summary>
    Exact,

    /// <summary>The header is present, whatever its value (an empty value counts).</summary>
    Present,

    /// <summary>The header is present and the whole value matches a regular expression.</summary>
    Regex,

    /// <summary>The header is present and its value starts with the configured bytes (case-sensitive).</summary>
    Prefix,

    /// <summary>The header is not in the request (Envoy's <c>present_match: false</c>).</summary>
    Absent,
}
