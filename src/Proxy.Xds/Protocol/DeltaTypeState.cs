namespace Proxy.Xds.Protocol;

/// <summary>
/// What the incremental (delta) client tracks per resource type (xds_protocol, "Incremental xDS"): the names
/// subscribed on the current stream (<c>*</c> for a wildcard type), the version of each resource held, which a new
/// stream restates as <c>initial_resource_versions</c>, and, through <see cref="Common"/>, the nonce to echo and the
/// last accepted <c>system_version_info</c> (what /config_dump and the metrics show as the type's version).
/// </summary>
internal sealed class DeltaTypeState(XdsTypeState common, bool wildcard)
{
    /// <summary>The explicit wildcard subscription (xds_protocol, "How the client specifies what resources to return").</summary>
    public const string WildcardName = "*";

    public XdsTypeState Common { get; } = common;

    public string TypeUrl => Common.TypeUrl;

    /// <summary>Whether the type is subscribed by wildcard (clusters, listeners) rather than by the names others reference.</summary>
    public bool Wildcard { get; } = wildcard;

    /// <summary>The names subscribed on the current stream; empty for a wildcard type.</summary>
    public SortedSet<string> Subscribed { get; } = new(StringComparer.Ordinal);

    /// <summary>The version of each resource held, by name, as the server sent it (<c>Resource.version</c>).</summary>
    public Dictionary<string, string> ResourceVersions { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>Forgets the versions of resources no longer held (the stores drop what nothing references).</summary>
    public void RetainVersions(Func<string, bool> held)
    {
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, version) in ResourceVersions)
        {
            if (held(name))
            {
                kept[name] = version;
            }
        }

        ResourceVersions = kept;
    }
}
