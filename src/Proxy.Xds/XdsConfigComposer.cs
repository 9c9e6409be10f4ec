using Proxy.Configuration;

namespace Proxy.Xds;

/// <summary>
/// Puts the file's configuration and the clusters from the management server together into the one configuration
/// the runtime compiles (mixed mode). A cluster the file's routes name that neither defines yet is an empty
/// placeholder (503, no healthy endpoint) until the server sends it. Placeholders are made once per name, so an
/// unchanged one is carried over by the snapshot compiler like any unchanged cluster.
/// </summary>
public sealed class XdsConfigComposer
{
    private readonly Dictionary<string, ClusterConfig> _placeholders = new(StringComparer.Ordinal);

    /// <summary>The merged configuration, or null with <paramref name="error"/> saying why the server's clusters cannot join the file's.</summary>
    public ProxyConfig? Compose(ProxyConfig file, IReadOnlyList<ClusterConfig> dynamic, out string? error) =>
        Compose(file, dynamic, XdsListenerSet.Empty, out error);

    /// <summary>
    /// The merged configuration with the server's listeners beside the file's too, or null with <paramref name="error"/>
    /// saying why they cannot join (a name or an address the file's listeners hold). A cluster the server's routes
    /// name that no one defines yet gets a placeholder, as a file route's does.
    /// </summary>
    public ProxyConfig? Compose(ProxyConfig file, IReadOnlyList<ClusterConfig> dynamic, XdsListenerSet listenerSet, out string? error)
    {
        error = null;
        if (file.Xds is null)
        {
            return file;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var clusters = new List<ClusterConfig>(file.Clusters.Count + dynamic.Count);
        foreach (var cluster in file.Clusters)
        {
            names.Add(cluster.Name);
            clusters.Add(cluster);
        }

        foreach (var cluster in dynamic)
        {
            if (!names.Add(cluster.Name))
            {
                error = $"cluster '{cluster.Name}' is defined in the configuration file, and a management server cannot replace a file's cluster; rename one of them";
                return null;
            }

            clusters.Add(cluster);
        }

        var referenced = new List<string>(file.ReferencedClusters);
        var listeners = listenerSet.Serving;
        if (listenerSet.Serving.Count + listenerSet.Warming.Count > 0)
        {
            if (XdsListenerComposition.Check(file.Listeners, listenerSet.All) is { } clash)
            {
                error = clash;
                return null;
            }

            XdsListenerComposition.AddReferencedClusters(listeners, referenced);
        }

        foreach (var name in referenced)
        {
            if (names.Add(name))
            {
                if (!_placeholders.TryGetValue(name, out var placeholder))
                {
                    placeholder = new ClusterConfig { Name = name };
                    _placeholders.Add(name, placeholder);
                }

                clusters.Add(placeholder);
            }
        }

        return listeners.Count == 0
            ? file with { Clusters = new ConfigList<ClusterConfig>([.. clusters]) }
            : file with { Clusters = new ConfigList<ClusterConfig>([.. clusters]), Listeners = new ConfigList<ListenerConfig>([.. file.Listeners, .. listeners]) };
    }
}
