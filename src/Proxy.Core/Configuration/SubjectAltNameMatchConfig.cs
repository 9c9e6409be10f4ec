namespace Proxy.Configuration;

/// <summary>
/// One name an upstream's certificate may carry (Envoy's <c>match_typed_subject_alt_names</c>): with any of a
/// cluster's matchers satisfied, the server is who the cluster wants, whatever host name it was dialled by.
/// </summary>
public sealed record SubjectAltNameMatchConfig
{
    /// <summary>Which names are looked at.</summary>
    public SubjectAltNameType Type { get; init; } = SubjectAltNameType.Any;

    /// <summary>How a name is compared with <see cref="Value"/>.</summary>
    public SubjectAltNameMatchKind Kind { get; init; } = SubjectAltNameMatchKind.Exact;

    /// <summary>The string compared with.</summary>
    public required string Value { get; init; }

    /// <summary>Compare ignoring ASCII case.</summary>
    public bool IgnoreCase { get; init; }
}
