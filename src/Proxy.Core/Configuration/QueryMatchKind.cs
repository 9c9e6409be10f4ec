namespace Proxy.Configuration;

/// <summary>How a query parameter matcher compares the parameter's percent-decoded value.</summary>
public enum QueryMatchKind
{
    /// <summary>The value equals the configured string.</summary>
    Exact,

    /// <summary>The value starts with the configured string.</summary>
    Prefix,

    /// <summary>The whole value matches the configured regular expression.</summary>
    Regex,

    /// <summary>The parameter is present, whatever its value.</summary>
    Present,
}
