namespace Proxy.Configuration;

/// <summary>How a <see cref="SubjectAltNameMatchConfig"/> compares a name with its value.</summary>
public enum SubjectAltNameMatchKind
{
    /// <summary>The name equals the value.</summary>
    Exact,

    /// <summary>The name starts with the value.</summary>
    Prefix,

    /// <summary>The name ends with the value.</summary>
    Suffix,

    /// <summary>The name contains the value.</summary>
    Contains,
}
