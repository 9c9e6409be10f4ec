using Proxy.Configuration;

namespace Proxy.Xds;

/// <summary>
/// The rules for the server's listeners beside the file's: no shared name, no shared port on a clashing address
/// (the same rule the file's binder applies between its own listeners), and the clusters they name.
/// </summary>
internal static class XdsListenerComposition
{
    /// <summary>Null when <paramref name="dynamic"/> can bind beside <paramref name="file"/>, else the sentence for the NACK.</summary>
    public static string? Check(IReadOnlyList<ListenerConfig> file, IReadOnlyList<ListenerConfig> dynamic)
    {
        for (var i = 0; i < dynamic.Count; i++)
        {
            var listener = dynamic[i];
            foreach (var own in file)
            {
                if (own.Name == listener.Name)
                {
                    return $"listener '{listener.Name}' is defined in the configuration file, and a management server cannot replace a file's listener; rename one of them";
                }

                if (Clash(own, listener))
                {
                    return $"listener '{listener.Name}': address {listener.Address} clashes with the configuration file's listener '{own.Name}' ({own.Address}); send another port";
                }
            }

            for (var j = 0; j < i; j++)
            {
                if (Clash(dynamic[j], listener))
                {
                    return $"listener '{listener.Name}': address {listener.Address} clashes with listener '{dynamic[j].Name}' ({dynamic[j].Address}) of the same server; send another port";
                }
            }
        }

        return null;
    }

    /// <summary>Adds every cluster <paramref name="listeners"/> send to (tcp cluster, route clusters, splits, mirrors).</summary>
    public static void AddReferencedClusters(IReadOnlyList<ListenerConfig> listeners, List<string> names)
    {
        foreach (var listener in listeners)
        {
            if (listener.FilterChains is { } chains)
            {
                AddReferencedClusters([.. chains.Select(static c => c.Listener)], names);
            }

            if (listener.DefaultFilterChain is { } fallback)
            {
                AddReferencedClusters([fallback], names);
            }

            if (listener.Cluster is { } tcp)
            {
                names.Add(tcp);
            }

            foreach (var host in listener.VirtualHosts)
            {
                foreach (var route in host.Routes)
                {
                    if (route.Cluster is { } cluster)
                    {
                        names.Add(cluster);
                    }

                    foreach (var split in route.Split)
                    {
                        names.Add(split.Cluster);
                    }

                    if (route.Mirror is { } mirror)
                    {
                        names.Add(mirror.Cluster);
                    }
                }
            }
        }
    }

    // Two binds on one port clash when the hosts are equal or either is a wildcard address; port 0 never clashes. A
    // listener that does not bind takes handed-over connections only: it clashes with nothing that binds, and with
    // another that does not bind only at the very same address (which of them would take a connection?).
    private static bool Clash(ListenerConfig a, ListenerConfig b) =>
        a.Bind == b.Bind && (a.Bind ? Clash(a.Address, b.Address) : a.Address == b.Address);

    private static bool Clash(HostPort a, HostPort b) =>
        a.Port != 0 && a.Port == b.Port && (a.Host == b.Host || a.Host is "0.0.0.0" or "::" || b.Host is "0.0.0.0" or "::");
}
