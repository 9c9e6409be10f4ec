using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// The one place that turns a validated configuration into a runtime snapshot. Endpoint objects are
/// carried over from the previous snapshot when a cluster keeps the same address and weight, so
/// in-flight counts, latency estimates and health survive a reload.
/// </summary>
public static class SnapshotCompiler
{
    public static ProxySnapshot Compile(ProxyConfig config, ProxySnapshot? previous, ProxyMetrics metrics)
    {
        var clusters = new Dictionary<string, Cluster>(StringComparer.Ordinal);
        foreach (var cluster in config.Clusters)
        {
            Cluster? old = null;
            previous?.Clusters.TryGetValue(cluster.Name, out old);
            var endpoints = new Endpoint[cluster.Endpoints.Count];
            for (var i = 0; i < endpoints.Length; i++)
            {
                var spec = cluster.Endpoints[i];
                var authority = spec.Address.ToString();
                endpoints[i] = FindReusable(old, authority, spec.Weight)
                    ?? new Endpoint(authority, AddressResolver.ForConnect(spec.Address), spec.Weight);
            }

            clusters[cluster.Name] = new Cluster(cluster.Name, endpoints, cluster.ConnectTimeout, cluster.IdleTimeout, new ClusterMetrics(metrics, cluster.Name));
        }

        var listeners = new Dictionary<string, ListenerRuntime>(StringComparer.Ordinal);
        foreach (var listener in config.Listeners)
        {
            Cluster? cluster = listener.Cluster is { } name ? clusters[name] : null;
            listeners[listener.Name] = new ListenerRuntime(listener, cluster, new ListenerMetrics(metrics, listener.Name));
        }

        return new ProxySnapshot(config, listeners, clusters, (previous?.Generation ?? 0) + 1);
    }

    private static Endpoint? FindReusable(Cluster? old, string authority, int weight)
    {
        if (old is null)
        {
            return null;
        }

        foreach (var endpoint in old.Endpoints)
        {
            if (endpoint.Authority == authority && endpoint.Weight == weight)
            {
                return endpoint;
            }
        }

        return null;
    }
}
