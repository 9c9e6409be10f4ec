using Proxy.Configuration;
using Proxy.Http.Http1;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Tls;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// The one place that turns a validated configuration into a runtime snapshot. Endpoint objects are
/// carried over from the previous snapshot when a cluster keeps the same address and weight, so
/// in-flight counts, latency estimates, health and pooled connections survive a reload.
/// </summary>
public static class SnapshotCompiler
{
    /// <param name="certificates">Where TLS files are loaded from (shared across reloads); null when no listener or cluster uses TLS.</param>
    /// <param name="log">Where upstream failures, health changes and ejections are logged (<see cref="UpstreamEventLog"/>); null for nowhere.</param>
    public static ProxySnapshot Compile(ProxyConfig config, ProxySnapshot? previous, ProxyMetrics metrics, CertificateStore? certificates = null, Logger? log = null)
    {
        var tlsErrors = new List<string>();
        var clusters = new Dictionary<string, Cluster>(StringComparer.Ordinal);
        var carried = CarriedClusters(config, previous, out var before);
        foreach (var cluster in config.Clusters)
        {
            if (carried.TryGetValue(cluster.Name, out var same))
            {
                clusters[cluster.Name] = same;
                continue;
            }

            var tls = cluster.Tls is { } clientTls ? TlsPolicies.Client(clientTls, cluster.Protocol, certificates, $"cluster {cluster.Name}", tlsErrors) : null;
            clusters[cluster.Name] = CompileCluster(cluster, previous, metrics, tls, new UpstreamEventLog(log, cluster.Name), before);
        }

        var listeners = new Dictionary<string, ListenerRuntime>(StringComparer.Ordinal);
        foreach (var listener in config.Listeners)
        {
            // The same listener object: with the same clusters its routes need no recompiling; with some clusters
            // recompiled, only the route actions naming them are remade (ListenerRebinder).
            if (previous is not null && previous.Listeners.TryGetValue(listener.Name, out var running)
                && ReferenceEquals(running.Config, listener)
                && (UsesOnly(running, clusters) ? running : ListenerRebinder.Rebind(running, clusters)) is { } kept)
            {
                listeners[listener.Name] = kept;
                foreach (var chain in kept.Chains?.Chains ?? [])
                {
                    listeners[chain.Name] = chain;
                }

                if (kept.Chains?.Default is { } fallback)
                {
                    listeners[fallback.Name] = fallback;
                }

                continue;
            }

            if (listener.FilterChains is { } chains)
            {
                // Each chain is compiled as a listener of its own (never bound), found by its name like any other, so
                // a connection served by one follows route updates as a bound listener's does.
                var compiled = new ListenerRuntime[chains.Count];
                var matches = new FilterChainMatchConfig[chains.Count];
                for (var i = 0; i < chains.Count; i++)
                {
                    compiled[i] = CompileListener(chains[i].Listener, clusters, metrics, certificates, tlsErrors);
                    matches[i] = chains[i].Match;
                    listeners[compiled[i].Name] = compiled[i];
                }

                var fallback = listener.DefaultFilterChain is { } d ? CompileListener(d, clusters, metrics, certificates, tlsErrors) : null;
                if (fallback is not null)
                {
                    listeners[fallback.Name] = fallback;
                }

                listeners[listener.Name] = new ListenerRuntime(listener, null, new ListenerMetrics(metrics, listener.Name), null)
                {
                    Chains = new FilterChainSelector(matches, compiled, fallback),
                };
                continue;
            }

            listeners[listener.Name] = CompileListener(listener, clusters, metrics, certificates, tlsErrors);
        }

        if (tlsErrors.Count > 0)
        {
            // Unusable certificate files reject the whole configuration, like a failed bind.
            throw new ListenerBindException(tlsErrors);
        }

        return new ProxySnapshot(config, listeners, clusters, (previous?.Generation ?? 0) + 1) { ByAddress = ByAddress(config, listeners) };
    }

    /// <summary>
    /// The compiled clusters of <paramref name="previous"/> whose configuration is the very same object in
    /// <paramref name="config"/>: an update from a management server keeps the file's configuration objects, and
    /// its own for clusters it did not change, so those are carried over whole (endpoints, breaker, outlier and
    /// health state). A file reload makes every object anew and so recompiles everything, as before.
    /// </summary>
    /// <param name="before">The previous snapshot's cluster configurations by name.</param>
    private static Dictionary<string, Cluster> CarriedClusters(ProxyConfig config, ProxySnapshot? previous, out Dictionary<string, ClusterConfig> before)
    {
        var carried = new Dictionary<string, Cluster>(StringComparer.Ordinal);
        before = new Dictionary<string, ClusterConfig>(StringComparer.Ordinal);
        if (previous is null)
        {
            return carried;
        }

        foreach (var cluster in previous.Config.Clusters)
        {
            before[cluster.Name] = cluster;
        }

        foreach (var cluster in config.Clusters)
        {
            if (before.TryGetValue(cluster.Name, out var old) && ReferenceEquals(old, cluster) && previous.Clusters.TryGetValue(cluster.Name, out var compiled))
            {
                carried[cluster.Name] = compiled;
            }
        }

        return carried;
    }

    /// <summary>Each listener by its IP address and port (listeners named by a DNS name are left out: no connection's destination is one).</summary>
    private static Dictionary<System.Net.IPEndPoint, ListenerRuntime> ByAddress(ProxyConfig config, Dictionary<string, ListenerRuntime> listeners)
    {
        var byAddress = new Dictionary<System.Net.IPEndPoint, ListenerRuntime>();
        foreach (var listener in config.Listeners)
        {
            if (System.Net.IPAddress.TryParse(listener.Address.Host, out var ip))
            {
                byAddress.TryAdd(new System.Net.IPEndPoint(ip, listener.Address.Port), listeners[listener.Name]);
            }
        }

        return byAddress;
    }

    private static ListenerRuntime CompileListener(ListenerConfig listener, Dictionary<string, Cluster> clusters, ProxyMetrics metrics, CertificateStore? certificates, List<string> tlsErrors)
    {
        Cluster? cluster = listener.Cluster is { } name ? clusters[name] : null;
        var http = listener.Protocol == ListenerProtocol.Tcp ? null : CompileRouting(listener, clusters, metrics);
        var tls = listener.Tls is { } serverTls ? TlsPolicies.Server(serverTls, certificates, $"listener {listener.Name}", tlsErrors) : null;
        return new ListenerRuntime(listener, cluster, new ListenerMetrics(metrics, listener.Name), http) { Tls = tls };
    }

    /// <summary>Whether every cluster a compiled listener (and each of its filter chains) sends to is the same object in <paramref name="clusters"/>.</summary>
    private static bool UsesOnly(ListenerRuntime listener, Dictionary<string, Cluster> clusters)
    {
        if (listener.Chains is { } chains)
        {
            foreach (var chain in chains.Chains)
            {
                if (!UsesOnly(chain, clusters))
                {
                    return false;
                }
            }

            return chains.Default is null || UsesOnly(chains.Default, clusters);
        }

        if (listener.Cluster is { } tcp && !IsCurrent(tcp, clusters))
        {
            return false;
        }

        foreach (var action in listener.Http?.Actions ?? [])
        {
            foreach (var cluster in action.Clusters)
            {
                if (!IsCurrent(cluster, clusters))
                {
                    return false;
                }
            }

            if (action.MirrorCluster is { } mirror && !IsCurrent(mirror, clusters))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsCurrent(Cluster cluster, Dictionary<string, Cluster> clusters) =>
        clusters.TryGetValue(cluster.Name, out var current) && ReferenceEquals(current, cluster);

    /// <param name="previousConfigs">The previous snapshot's cluster configurations by name (looked up in it when null).</param>
    internal static Cluster CompileCluster(ClusterConfig config, ProxySnapshot? previous, ProxyMetrics metrics, TlsClientPolicy? tls, UpstreamEventLog events, Dictionary<string, ClusterConfig>? previousConfigs = null)
    {
        Cluster? old = null;
        previous?.Clusters.TryGetValue(config.Name, out old);

        // Endpoints (and the connections pooled in them) carry over a reload only while the cluster's TLS settings
        // stay the same: a connection made under the old ones (plain text, another CA or name, another client
        // certificate) must not serve requests under the new ones. Otherwise every endpoint is made anew, and the
        // old ones give back their idle connections below.
        var oldConfig = previousConfigs is not null ? previousConfigs.GetValueOrDefault(config.Name)
            : previous?.Config.Clusters.FirstOrDefault(c => c.Name == config.Name);
        var reusable = oldConfig is not null && SameTls(oldConfig.Tls, config.Tls) ? old : null;
        var endpoints = new Endpoint[config.Endpoints.Count];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var spec = config.Endpoints[i];
            var authority = spec.Address.ToString();
            var endpoint = FindReusable(reusable, authority, spec.Weight, spec.PlainText)
                ?? new Endpoint(authority, AddressResolver.ForConnect(spec.Address), spec.Weight) { PlainText = spec.PlainText };
            Prepare(endpoint, config, events);
            endpoints[i] = endpoint;
        }

        // Endpoints that left the cluster give their idle connections back to the upstream.
        old?.OriginalDestinations?.Clear();
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
        var resilienceMetrics = new ClusterResilienceMetrics(metrics.Resilience, config.Name);
        var health = new EndpointHealth[endpoints.Length];
        for (var i = 0; i < endpoints.Length; i++)
        {
            health[i] = endpoints[i].Health;
        }

        var resilience = new ClusterResilience(
            config.CircuitBreaker is { } breaker ? CircuitBreaker.FromConfig(breaker, resilienceMetrics) : null,
            config.OutlierDetection is { } outliers ? new OutlierDetector(health, outliers, null, resilienceMetrics) : null,
            config.HealthCheck is { } check ? new HealthChecker(health, check, resilienceMetrics, tls: tls) : null,
            resilienceMetrics);
        var settings = new ClusterSettings
        {
            ConnectTimeout = config.ConnectTimeout,
            IdleTimeout = config.IdleTimeout,
            HashOn = config.HashOn,
            Tls = tls,
            FollowsDownstream = config.Protocol == ClusterProtocol.Downstream,
        };
        return new Cluster(config.Name, endpoints, picker, settings, new ClusterMetrics(metrics, config.Name), resilience)
        {
            OriginalDestinations = config.OriginalDestination is { } original
                ? new OriginalDestinationEndpoints(original.PortOverride, original.CleanupInterval, config.Protocol == ClusterProtocol.Http2, endpoint => Prepare(endpoint, config, events))
                : null,
        };
    }

    /// <summary>What every endpoint of a cluster gets from its configuration: the log, the pools and their settings, the source address.</summary>
    private static void Prepare(Endpoint endpoint, ClusterConfig config, UpstreamEventLog events)
    {
        endpoint.Events = events;
        endpoint.SourceAddress = config.SourceAddress;
        if (!endpoint.HasPool || endpoint.Pool.MaxIdle != config.Pool.MaxIdle)
        {
            endpoint.Pool = new ConnectionPool(config.Pool.MaxIdle);
        }

        endpoint.Pool.IdleTimeout = config.Pool.IdleTimeout;
        endpoint.Pool.MaxRequestsPerConnection = config.Pool.MaxRequestsPerConnection;
        if (config.Protocol is ClusterProtocol.Http2 or ClusterProtocol.Downstream)
        {
            // A downstream-protocol cluster keeps both pools: HTTP/2 clients' streams go to this one, HTTP/1.1 clients'
            // requests to the HTTP/1.1 pool (Cluster.SpeaksHttp2 is false for it).
            endpoint.Http2Pool ??= new Http2ConnectionPool();
            endpoint.Http2Pool.IdleTimeout = config.Pool.IdleTimeout;
        }
        else if (endpoint.Http2Pool is { } http2)
        {
            endpoint.Http2Pool = null;
            http2.Clear();
        }
    }

    /// <param name="metricsFor">The metrics of a (route, cluster) pair; null for an edge listener's (reporter "source", no workloads).</param>
    internal static HttpRouting CompileRouting(ListenerConfig listener, Dictionary<string, Cluster> clusters, ProxyMetrics metrics, Func<string, string, RouteMetrics>? metricsFor = null)
    {
        metricsFor ??= (route, cluster) => new RouteMetrics(metrics.Requests, listener.Name, route, cluster);
        // Plain routes are the one virtual host '*'. Route.Index runs on across virtual hosts, in this order.
        var hosts = listener.EffectiveVirtualHosts;
        var definitions = new VirtualHostDefinition[hosts.Count];
        var routeConfigs = new List<RouteConfig>();
        for (var v = 0; v < definitions.Length; v++)
        {
            var routes = new RouteDefinition[hosts[v].Routes.Count];
            for (var i = 0; i < routes.Length; i++)
            {
                routes[i] = ToDefinition(hosts[v].Routes[i], routeConfigs.Count);
                routeConfigs.Add(hosts[v].Routes[i]);
            }

            definitions[v] = new VirtualHostDefinition { Name = hosts[v].Name, Domains = hosts[v].Domains, Routes = routes };
        }

        var table = RouteTable.BuildVirtualHosts(definitions);
        var actions = new RouteRuntime[table.Routes.Count];
        foreach (var route in table.Routes)
        {
            // A route's own retries and timeout win; its virtual host's are the defaults.
            var host = hosts[route.VirtualHostIndex];
            var config = routeConfigs[route.Index];
            config = config with { Timeout = config.Timeout ?? host.Timeout, Retries = config.Retries ?? host.Retries };
            var routeClusters = new Cluster[route.Clusters.Count];
            var routeMetrics = routeClusters.Length == 0
                ? [metricsFor(route.Name, "-")] // a route that answers by itself
                : new RouteMetrics[routeClusters.Length];
            for (var c = 0; c < routeClusters.Length; c++)
            {
                routeClusters[c] = clusters[route.Clusters[c]];
                routeMetrics[c] = metricsFor(route.Name, route.Clusters[c]);
            }

            var resilience = metrics.Resilience;
            actions[route.Index] = new RouteRuntime(route, routeClusters, config.Timeout, routeMetrics)
            {
                Retry = config.Retries is { } retries ? RetryPolicy.FromConfig(retries) : null,
                Budget = config.Retries?.Budget is { } budget ? RetryBudget.FromConfig(budget, resilience.RetryBudgetExhausted.WithLabels(listener.Name, route.Name)) : null,
                RateLimit = config.RateLimit is { } limit ? TokenBucket.FromConfig(limit) : null,
                Fault = config.Fault is { } fault ? FaultInjector.FromConfig(fault) : null,
                FaultHeaders = config.Fault is { } f ? CompileHeaderMatchers(f.Headers) : [],
                Mirror = config.Mirror is { } mirror ? MirrorPolicy.FromConfig(mirror) : null,
                MirrorCluster = config.Mirror is { } m ? clusters[m.Cluster] : null,
                LocalResponse = LocalResponses.FromConfig(config),
                Counters = new ResilienceCounters(
                    resilience.RateLimited.WithLabels(listener.Name, route.Name),
                    resilience.FaultsInjected.WithLabels(listener.Name, route.Name, "delay"),
                    resilience.FaultsInjected.WithLabels(listener.Name, route.Name, "abort"),
                    resilience.Mirrored.WithLabels(listener.Name, route.Name)),
                RequestChanges = Headers.FieldChanges.Compile([config.RequestHeaders, host.RequestHeaders, listener.RequestHeaders], forResponse: false,
                    alsoRemoved: config.PrefixRewrite is not null || config.RegexRewrite is not null ? ["x-envoy-original-path"] : null),
                ResponseChanges = Headers.FieldChanges.Compile([config.ResponseHeaders, host.ResponseHeaders, listener.ResponseHeaders], forResponse: true),
                Rewrite = Rewrites.RequestRewrite.Compile(config),
            };
        }

        var limits = new Http1Limits
        {
            MaxHeaderBytes = listener.Limits.MaxHeaderBytes,
            MaxRequestTargetLength = listener.Limits.MaxRequestTargetBytes,
        };
        var routing = new HttpRouting(table, actions, limits, metricsFor("-", "-"))
        {
            RateLimit = listener.RateLimit is { } rateLimit ? TokenBucket.FromConfig(rateLimit) : null,
            RateLimited = metrics.Resilience.RateLimited.WithLabels(listener.Name, "-"),
            Rbac = listener.HttpRbac,
            RbacDenied = metrics.Resilience.RbacDenied.WithLabels(listener.Name, "http"),
            Fault = listener.Fault is { } listenerFault ? FaultInjector.FromConfig(listenerFault) : null,
            FaultHeaders = listener.Fault is { } lf ? CompileHeaderMatchers(lf.Headers) : [],
        };
        routing.Filters = Filters.HttpFilterRegistry.Build(listener.HttpFilters, routing);
        return routing;
    }

    /// <summary>
    /// The problems the route compiler would find in <paramref name="virtualHosts"/> (domains, path and header
    /// patterns, regexes), every one of them; empty when they compile. For configuration made elsewhere than the
    /// file's binder (an xDS RouteConfiguration), so a bad one is refused before it reaches a snapshot.
    /// </summary>
    public static IReadOnlyList<RouteDefinitionError> CheckRoutes(IReadOnlyList<VirtualHostConfig> virtualHosts)
    {
        var definitions = new VirtualHostDefinition[virtualHosts.Count];
        var index = 0;
        for (var v = 0; v < definitions.Length; v++)
        {
            var routes = new RouteDefinition[virtualHosts[v].Routes.Count];
            for (var i = 0; i < routes.Length; i++)
            {
                routes[i] = ToDefinition(virtualHosts[v].Routes[i], index++);
            }

            definitions[v] = new VirtualHostDefinition { Name = virtualHosts[v].Name, Domains = virtualHosts[v].Domains, Routes = routes };
        }

        RouteTable.TryBuildVirtualHosts(definitions, out _, out var errors);
        return errors;
    }

    private static HeaderMatcher[] CompileHeaderMatchers(IReadOnlyList<HeaderMatchConfig> headers)
    {
        var matchers = new HeaderMatcher[headers.Count];
        for (var i = 0; i < matchers.Length; i++)
        {
            var header = headers[i];
            matchers[i] = header.Kind switch
            {
                Configuration.HeaderMatchKind.Present => HeaderMatcher.Present(header.Name),
                Configuration.HeaderMatchKind.Absent => HeaderMatcher.Absent(header.Name),
                Configuration.HeaderMatchKind.Regex => HeaderMatcher.Regex(header.Name, new System.Text.RegularExpressions.Regex($"\\A(?:{header.Value})\\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant | System.Text.RegularExpressions.RegexOptions.NonBacktracking)),
                Configuration.HeaderMatchKind.Prefix => HeaderMatcher.Regex(header.Name, new System.Text.RegularExpressions.Regex("\\A" + System.Text.RegularExpressions.Regex.Escape(header.Value!), System.Text.RegularExpressions.RegexOptions.CultureInvariant | System.Text.RegularExpressions.RegexOptions.NonBacktracking)),
                _ => HeaderMatcher.Exact(header.Name, header.Value!),
            };
            if (header.Invert)
            {
                matchers[i] = matchers[i].Inverted();
            }
        }

        return matchers;
    }

    private static RouteDefinition ToDefinition(RouteConfig route, int index)
    {
        var headers = new HeaderMatchDefinition[route.Match.Headers.Count];
        for (var h = 0; h < headers.Length; h++)
        {
            var header = route.Match.Headers[h];
            headers[h] = new HeaderMatchDefinition(header.Name, header.Kind switch
            {
                Configuration.HeaderMatchKind.Present => Routing.HeaderMatchKind.Present,
                Configuration.HeaderMatchKind.Absent => Routing.HeaderMatchKind.Absent,
                Configuration.HeaderMatchKind.Regex => Routing.HeaderMatchKind.Regex,
                Configuration.HeaderMatchKind.Prefix => Routing.HeaderMatchKind.Prefix,
                _ => Routing.HeaderMatchKind.Exact,
            }, header.Value) { Invert = header.Invert };
        }

        var query = new QueryMatchDefinition[route.Match.Query.Count];
        for (var q = 0; q < query.Length; q++)
        {
            var parameter = route.Match.Query[q];
            query[q] = new QueryMatchDefinition(parameter.Name, parameter.Kind switch
            {
                Configuration.QueryMatchKind.Present => Routing.QueryMatchKind.Present,
                Configuration.QueryMatchKind.Regex => Routing.QueryMatchKind.Regex,
                Configuration.QueryMatchKind.Prefix => Routing.QueryMatchKind.Prefix,
                _ => Routing.QueryMatchKind.Exact,
            }, parameter.Value);
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
                PathRegex = route.Match.PathRegex,
                CaseSensitive = route.Match.CaseSensitive,
                Grpc = route.Match.Grpc,
                Query = query,
                Headers = headers,
                Methods = route.Match.Methods.Count > 0 ? route.Match.Methods : null,
            },
            Cluster = route.Cluster,
            Split = split,
            AnswersLocally = route.AnswersLocally,
        };
    }

    /// <summary>Whether two clusters' TLS settings make the same connections (record equality, the ALPN list by content).</summary>
    private static bool SameTls(TlsClientConfig? a, TlsClientConfig? b) =>
        a is null || b is null
            ? a is null && b is null
            : a with { Alpn = b.Alpn } == b && a.Alpn.SequenceEqual(b.Alpn);

    private static Endpoint? FindReusable(Cluster? old, string authority, int weight, bool plainText)
    {
        if (old is null)
        {
            return null;
        }

        foreach (var endpoint in old.Endpoints)
        {
            if (endpoint.Authority == authority && endpoint.Weight == weight && endpoint.PlainText == plainText)
            {
                return endpoint;
            }
        }

        return null;
    }
}
