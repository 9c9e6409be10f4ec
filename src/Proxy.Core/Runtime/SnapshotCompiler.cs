using Proxy.Configuration;
using Proxy.Http.Http1;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Routing;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// The one place that turns a validated configuration into a runtime snapshot. Endpoint objects are
/// carried over from the previous snapshot when a cluster keeps the same address and weight, so
/// in-flight counts, latency estimates, health and pooled connections survive a reload.
/// </summary>
public static class SnapshotCompiler
{
    public static ProxySnapshot Compile(ProxyConfig config, ProxySnapshot? previous, ProxyMetrics metrics)
    {
        var clusters = new Dictionary<string, Cluster>(StringComparer.Ordinal);
        foreach (var cluster in config.Clusters)
        {
            clusters[cluster.Name] = CompileCluster(cluster, previous, metrics);
        }

        var listeners = new Dictionary<string, ListenerRuntime>(StringComparer.Ordinal);
        foreach (var listener in config.Listeners)
        {
            Cluster? cluster = listener.Cluster is { } name ? clusters[name] : null;
            var http = listener.Protocol == ListenerProtocol.Tcp ? null : CompileRouting(listener, clusters, metrics);
            listeners[listener.Name] = new ListenerRuntime(listener, cluster, new ListenerMetrics(metrics, listener.Name), http);
        }

        return new ProxySnapshot(config, listeners, clusters, (previous?.Generation ?? 0) + 1);
    }

    private static Cluster CompileCluster(ClusterConfig config, ProxySnapshot? previous, ProxyMetrics metrics)
    {
        Cluster? old = null;
        previous?.Clusters.TryGetValue(config.Name, out old);
        var endpoints = new Endpoint[config.Endpoints.Count];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var spec = config.Endpoints[i];
            var authority = spec.Address.ToString();
            var endpoint = FindReusable(old, authority, spec.Weight)
                ?? new Endpoint(authority, AddressResolver.ForConnect(spec.Address), spec.Weight);
            if (!endpoint.HasPool || endpoint.Pool.MaxIdle != config.Pool.MaxIdle)
            {
                endpoint.Pool = new ConnectionPool(config.Pool.MaxIdle);
            }

            endpoint.Pool.IdleTimeout = config.Pool.IdleTimeout;
            endpoint.Pool.MaxRequestsPerConnection = config.Pool.MaxRequestsPerConnection;
            if (config.Protocol == ClusterProtocol.Http2)
            {
                endpoint.Http2Pool ??= new Http2ConnectionPool();
            }
            else if (endpoint.Http2Pool is { } http2)
            {
                endpoint.Http2Pool = null;
                http2.Clear();
            }

            endpoints[i] = endpoint;
        }

        // Endpoints that left the cluster give their idle connections back to the upstream.
        if (old is not null)
        {
            foreach (var gone in old.Endpoints)
            {
                if (Array.IndexOf(endpoints, gone) < 0 && gone.HasPool)
                {
                    gone.Pool.Clear();
                }

                if (Array.IndexOf(endpoints, gone) < 0)
                {
                    gone.Http2Pool?.Clear();
                }
            }
        }

        var picker = PickerRegistry.Create(config.LoadBalancer, endpoints, PickerOptions.Default);
        var settings = new ClusterSettings
        {
            ConnectTimeout = config.ConnectTimeout,
            IdleTimeout = config.IdleTimeout,
            HashOn = config.HashOn,
        };
        return new Cluster(config.Name, endpoints, picker, settings, new ClusterMetrics(metrics, config.Name));
    }

    private static HttpRouting CompileRouting(ListenerConfig listener, Dictionary<string, Cluster> clusters, ProxyMetrics metrics)
    {
        var definitions = new RouteDefinition[listener.Routes.Count];
        for (var i = 0; i < definitions.Length; i++)
        {
            definitions[i] = ToDefinition(listener.Routes[i], i);
        }

        var table = RouteTable.Build(definitions);
        var actions = new RouteRuntime[table.Routes.Count];
        foreach (var route in table.Routes)
        {
            var config = listener.Routes[route.Index];
            var routeClusters = new Cluster[route.Clusters.Count];
            var routeMetrics = new RouteMetrics[routeClusters.Length];
            for (var c = 0; c < routeClusters.Length; c++)
            {
                routeClusters[c] = clusters[route.Clusters[c]];
                routeMetrics[c] = new RouteMetrics(metrics.Requests, listener.Name, route.Name, route.Clusters[c]);
            }

            actions[route.Index] = new RouteRuntime(route, routeClusters, config.Timeout, routeMetrics);
        }

        var limits = new Http1Limits
        {
            MaxHeaderBytes = listener.Limits.MaxHeaderBytes,
            MaxRequestTargetLength = listener.Limits.MaxRequestTargetBytes,
        };
        return new HttpRouting(table, actions, limits, new RouteMetrics(metrics.Requests, listener.Name, "-", "-"));
    }

    private static RouteDefinition ToDefinition(RouteConfig route, int index)
    {
        var headers = new HeaderMatchDefinition[route.Match.Headers.Count];
        for (var h = 0; h < headers.Length; h++)
        {
            var header = route.Match.Headers[h];
            headers[h] = header.Kind switch
            {
                Configuration.HeaderMatchKind.Present => HeaderMatchDefinition.Present(header.Name),
                Configuration.HeaderMatchKind.Regex => HeaderMatchDefinition.Regex(header.Name, header.Value!),
                Configuration.HeaderMatchKind.Prefix => HeaderMatchDefinition.Regex(header.Name, "^" + System.Text.RegularExpressions.Regex.Escape(header.Value!)),
                _ => HeaderMatchDefinition.Exact(header.Name, header.Value!),
            };
        }

        WeightedClusterDefinition[]? split = null;
        if (route.Split.Count > 0)
        {
            split = new WeightedClusterDefinition[route.Split.Count];
            for (var s = 0; s < split.Length; s++)
            {
                split[s] = new WeightedClusterDefinition(route.Split[s].Cluster, route.Split[s].Weight);
            }
        }

        return new RouteDefinition
        {
            Name = route.Name ?? $"route-{index}",
            Match = new RouteMatchDefinition
            {
                Host = route.Match.Host,
                PathExact = route.Match.PathExact,
                PathPrefix = route.Match.PathPrefix,
                Headers = headers,
                Methods = route.Match.Methods.Count > 0 ? route.Match.Methods : null,
            },
            Cluster = route.Cluster,
            Split = split,
        };
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
