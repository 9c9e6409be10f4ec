using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// Carries a compiled listener whose configuration did not change into a snapshot where some of the clusters it sends
/// to were recompiled (one cluster's endpoints changed at the management server, say). The route table, every route
/// action whose clusters all stayed, and the actions' state (rate-limit buckets, retry budgets) are kept; only the
/// actions that name a recompiled cluster are remade, pointing at the new one. Recompiling the listener instead built
/// every route of an Istio-sized RouteConfiguration (a virtual host per service, 1,000 of them) again for one
/// cluster's endpoints: tens of milliseconds and megabytes of garbage per update (docs/benchmarks.md, "xDS scale").
/// </summary>
internal static class ListenerRebinder
{
    /// <summary>The listener bound to <paramref name="clusters"/>; null when a cluster it names is not there (compile it instead).</summary>
    public static ListenerRuntime? Rebind(ListenerRuntime running, Dictionary<string, Cluster> clusters)
    {
        if (running.Chains is { } chains)
        {
            var rebound = new ListenerRuntime[chains.Chains.Count];
            for (var i = 0; i < rebound.Length; i++)
            {
                if (Rebind(chains.Chains[i], clusters) is not { } chain)
                {
                    return null;
                }

                rebound[i] = chain;
            }

            ListenerRuntime? fallback = null;
            if (chains.Default is { } kept && (fallback = Rebind(kept, clusters)) is null)
            {
                return null;
            }

            return new ListenerRuntime(running.Config, null, running.Metrics, null) { Chains = chains.WithChains(rebound, fallback) };
        }

        Cluster? tcp = null;
        if (running.Cluster is { } named && !clusters.TryGetValue(named.Name, out tcp))
        {
            return null;
        }

        HttpRouting? http = null;
        if (running.Http is { } routing && (http = Rebind(running, routing, clusters)) is null)
        {
            return null;
        }

        return new ListenerRuntime(running.Config, tcp, running.Metrics, http) { Tls = running.Tls };
    }

    private static HttpRouting? Rebind(ListenerRuntime running, HttpRouting routing, Dictionary<string, Cluster> clusters)
    {
        RouteRuntime[]? actions = null;
        for (var i = 0; i < routing.Actions.Length; i++)
        {
            var action = routing.Actions[i];
            Cluster[]? targets = null;
            for (var c = 0; c < action.Clusters.Length; c++)
            {
                if (!clusters.TryGetValue(action.Clusters[c].Name, out var current))
                {
                    return null;
                }

                if (!ReferenceEquals(current, action.Clusters[c]))
                {
                    targets ??= [.. action.Clusters];
                    targets[c] = current;
                }
            }

            Cluster? mirror = null;
            if (action.MirrorCluster is { } m && !clusters.TryGetValue(m.Name, out mirror))
            {
                return null;
            }

            if (targets is not null || !ReferenceEquals(mirror, action.MirrorCluster))
            {
                actions ??= [.. routing.Actions];
                actions[i] = action.WithClusters(targets ?? action.Clusters, mirror);
            }
        }

        if (actions is null)
        {
            return routing;
        }

        var next = routing.WithActions(actions);
        next.Filters = Filters.HttpFilterRegistry.Build(running.Config.HttpFilters, next);
        return next;
    }
}
