namespace Proxy.Filters.Rbac;

/// <summary>How an <see cref="RbacStringMatcher"/> compares (Envoy's <c>StringMatcher</c> oneof).</summary>
public enum RbacStringMatchKind
{
    Exact,
    Prefix,
    Suffix,
    Contains,

    /// <summary>A <c>safe_regex</c> that must match the whole value.</summary>
    Regex,
}
