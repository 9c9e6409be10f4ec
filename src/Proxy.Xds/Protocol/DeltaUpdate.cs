using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Proxy.Xds.Translation;

namespace Proxy.Xds.Protocol;

/// <summary>
/// One incremental response decoded (xds_protocol, "Incremental xDS"): the resources it adds or changes, each with
/// its own version, and the names it removes. The meaning of each resource is the same as in a state-of-the-world
/// response; only what is left out means something else (nothing: only <c>removed_resources</c> deletes).
/// </summary>
internal sealed class DeltaUpdate<T>
    where T : IMessage<T>, new()
{
    private DeltaUpdate(List<T> resources, Dictionary<string, string> versions, List<string> removed)
    {
        Resources = resources;
        Versions = versions;
        Removed = removed;
    }

    /// <summary>The resources added or changed, in the response's order.</summary>
    public List<T> Resources { get; }

    /// <summary>The version of each resource in <see cref="Resources"/>, by name.</summary>
    public Dictionary<string, string> Versions { get; }

    /// <summary>The names removed (<c>removed_resources</c> and <c>removed_resource_names</c>).</summary>
    public List<string> Removed { get; }

    /// <summary>
    /// Decodes <paramref name="response"/>; throws <see cref="XdsRejectedException"/> for a resource of another type,
    /// one that cannot be decoded, a name given twice, or a wrapper whose name is not its resource's.
    /// </summary>
    public static DeltaUpdate<T> Read(DeltaDiscoveryResponse response, MessageParser<T> parser, Func<T, string> nameOf)
    {
        var resources = new List<T>(response.Resources.Count);
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < response.Resources.Count; i++)
        {
            var wrapper = response.Resources[i];
            if (wrapper.Resource_ is not { } any)
            {
                // A heartbeat that renews a resource's TTL; the proxy expires nothing, so nothing changes.
                continue;
            }

            if (any.TypeUrl != response.TypeUrl)
            {
                throw new XdsRejectedException($"resource {i} ('{wrapper.Name}') of the {response.TypeUrl} response is a {any.TypeUrl}; a response holds resources of its own type only");
            }

            var resource = XdsDecoder.Decode(parser, any.Value, $"resource {i} ('{wrapper.Name}') of the {response.TypeUrl} response");
            var name = nameOf(resource);
            if (wrapper.Name.Length > 0 && wrapper.Name != name)
            {
                throw new XdsRejectedException($"resource {i} of the {response.TypeUrl} response is named '{wrapper.Name}' but holds '{name}'; the Resource's name must be its resource's");
            }

            if (!versions.TryAdd(name, wrapper.Version))
            {
                throw new XdsRejectedException($"'{name}' appears twice in one {XdsTypeUrls.ShortName(response.TypeUrl)} response; send each resource once");
            }

            resources.Add(resource);
        }

        var removed = new List<string>(response.RemovedResources.Count + response.RemovedResourceNames.Count);
        removed.AddRange(response.RemovedResources);
        foreach (var name in response.RemovedResourceNames)
        {
            removed.Add(name.Name);
        }

        foreach (var name in removed)
        {
            if (versions.ContainsKey(name))
            {
                throw new XdsRejectedException($"'{name}' is both sent and removed in one {XdsTypeUrls.ShortName(response.TypeUrl)} response; send it or remove it");
            }
        }

        return new DeltaUpdate<T>(resources, versions, removed);
    }

    /// <summary>
    /// The whole set after this update, for a wildcard type whose store takes a state of the world: the held resources
    /// neither removed nor replaced, then the ones sent.
    /// </summary>
    public List<T> Merge(IEnumerable<T> held, Func<T, string> nameOf)
    {
        var removed = new HashSet<string>(Removed, StringComparer.Ordinal);
        var all = new List<T>();
        foreach (var resource in held)
        {
            var name = nameOf(resource);
            if (!removed.Contains(name) && !Versions.ContainsKey(name))
            {
                all.Add(resource);
            }
        }

        all.AddRange(Resources);
        return all;
    }

    /// <summary>
    /// Gives each accepted resource this update sent its own version (the stores stamp one version per response),
    /// as Envoy's /config_dump shows per-resource versions for delta.
    /// </summary>
    public void Stamp<TAccepted>(Dictionary<string, TAccepted> candidate, Func<TAccepted, string, TAccepted> withVersion)
    {
        foreach (var (name, version) in Versions)
        {
            if (candidate.TryGetValue(name, out var accepted))
            {
                candidate[name] = withVersion(accepted, version);
            }
        }
    }
}
