namespace Proxy.Routing;

/// <summary>How a <see cref="QueryMatchDefinition"/> tests a query parameter's (percent-decoded) value.</summary>
public enum QueryMatchKind
{
    /// <summary>The parameter is present and its decoded value equals the configured string (case-sensitive).</summary>
    Exact,

    /// <summary>The parameter is present and its decoded value starts with the configured string.</summary>
    Prefix,

    /// <summary>The parameter is present and its whole decoded value matches a regular expression.</summary>
    Regex,

    /// <summary>The parameter is present, whatever its value ("?debug" and "?debug=" count).</summary>
    Present,
}
