namespace Proxy.Configuration;

/// <summary>How a header matcher compares the header's value.</summary>
public enum HeaderMatchKind
{
    /// <summary>The value equals the configured string.</summary>
    Exact,

    /// <summary>The value starts with the configured string.</summary>
    Prefix,

    /// <summary>The whole value matches the configured regular expression.</summary>
    Regex,

    /// <summary>The header is present, whatever its value.</summary>
    Present,

    /// <summary>The header is absent.</summary>
    Absent,
}
