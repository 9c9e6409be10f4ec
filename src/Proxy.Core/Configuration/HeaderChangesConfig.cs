namespace Proxy.Configuration;

/// <summary>
/// Changes to the fields of a request or a response, at one level (route, or listener): Envoy's
/// <c>request_headers_to_add</c> / <c>request_headers_to_remove</c> and their response twins, in the verbs of the
/// Kubernetes Gateway API's header modifier.
/// </summary>
public sealed record HeaderChangesConfig
{
    /// <summary>Fields added as another field line, whatever is there (Envoy's <c>APPEND_IF_EXISTS_OR_ADD</c>).</summary>
    public IReadOnlyList<HeaderValueConfig> Add { get; init; } = ConfigList<HeaderValueConfig>.Empty;

    /// <summary>Fields that replace every field of their name (Envoy's <c>OVERWRITE_IF_EXISTS_OR_ADD</c>).</summary>
    public IReadOnlyList<HeaderValueConfig> Set { get; init; } = ConfigList<HeaderValueConfig>.Empty;

    /// <summary>Fields added only when the message has none of their name (Envoy's <c>ADD_IF_ABSENT</c>).</summary>
    public IReadOnlyList<HeaderValueConfig> SetIfAbsent { get; init; } = ConfigList<HeaderValueConfig>.Empty;

    /// <summary>Lowercase names of the fields removed.</summary>
    public IReadOnlyList<string> Remove { get; init; } = ConfigList<string>.Empty;

    /// <summary>True when the section changes nothing.</summary>
    public bool IsEmpty => Add.Count == 0 && Set.Count == 0 && SetIfAbsent.Count == 0 && Remove.Count == 0;
}
