using Proxy.Configuration.Files;
using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>Cluster, endpoint, pool, resilience and client TLS binding.</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] ClusterKeys =
    [
        "name", "endpoints", "protocol", "load_balancer", "hash_on", "connect_timeout", "idle_timeout",
        "pool", "tls", "circuit_breaker", "outlier_detection", "health_check",
    ];
    private static readonly string[] EndpointKeys = ["address", "weight"];
    private static readonly string[] PoolKeys = ["max_idle", "idle_timeout", "max_requests_per_connection"];
    private static readonly string[] CircuitBreakerKeys = ["max_connections", "max_pending_requests", "max_requests", "max_retries"];
    private static readonly string[] OutlierKeys =
        ["consecutive_5xx", "consecutive_gateway_errors", "interval", "base_ejection_time", "max_ejection_percent"];
    private static readonly string[] HealthCheckKeys =
        ["type", "path", "interval", "timeout", "healthy_threshold", "unhealthy_threshold", "expected_statuses"];
    private static readonly string[] TlsClientKeys = ["sni", "ca", "cert", "key", "insecure_skip_verify", "alpn"];
    private static readonly string[] ClusterProtocolNames = ["http1", "http2", "downstream"];
    private static readonly ClusterProtocol[] ClusterProtocolValues = [ClusterProtocol.Http1, ClusterProtocol.Http2, ClusterProtocol.Downstream];
    private static readonly string[] HealthCheckTypeNames = ["http", "tcp"];
    private static readonly HealthCheckType[] HealthCheckTypeValues = [HealthCheckType.Http, HealthCheckType.Tcp];

    // The built-in pickers that ignore a hash key; a hash_on beside them is surely a mistake.
    private static readonly string[] NonHashingBalancers = ["round_robin", "random", "least_request", "peak_ewma"];

    private static ConfigList<ClusterConfig> BindClusters(BindContext ctx, ConfigNode node, string path)
    {
        var items = ctx.ReadSequence(node, path);
        if (items is null)
        {
            return ConfigList<ClusterConfig>.Empty;
        }
        var clusters = new List<ClusterConfig>(items.Count);
        var firstSeen = new Dictionary<string, (ConfigNode Node, string Path)>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            string itemPath = BindContext.Index(path, i);
            if (BindCluster(ctx, items[i], itemPath) is not { } cluster)
            {
                continue;
            }
            var nameNode = ((ConfigMapping)items[i]).Find("name")!;
            if (firstSeen.TryGetValue(cluster.Name, out var first))
            {
                ctx.Error(nameNode, itemPath + ".name", $"duplicate cluster name '{cluster.Name}' (also {first.Path}, line {first.Node.Line})");
                continue;
            }
            firstSeen.Add(cluster.Name, (nameNode, itemPath));
            clusters.Add(cluster);
        }
        return ConfigList<ClusterConfig>.From(clusters);
    }

    private static ClusterConfig? BindCluster(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, ClusterKeys);
        if (map is null)
        {
            return null;
        }
        string? name = map.String("name", required: true);
        var endpoints = map.Require("endpoints") is { } endpointsNode
            ? BindEndpoints(ctx, endpointsNode, map.ChildPath("endpoints"))
            : ConfigList<EndpointConfig>.Empty;
        string loadBalancer = "round_robin";
        if (map.String("load_balancer") is { } lb)
        {
            if (ctx.Options.LoadBalancers.Contains(lb))
            {
                loadBalancer = lb;
            }
            else
            {
                map.Error("load_balancer", $"unknown load balancer '{lb}'; known: {string.Join(", ", ctx.Options.LoadBalancers)}");
            }
        }
        string? hashOn = map.String("hash_on");
        if (hashOn is not null)
        {
            if (hashOn != "client_ip" && !(hashOn.StartsWith("header:", StringComparison.Ordinal) && IsToken(hashOn[7..])))
            {
                map.Error("hash_on", $"'{hashOn}' is not a hash key; expected client_ip or header:NAME");
            }
            else if (Array.IndexOf(NonHashingBalancers, loadBalancer) >= 0)
            {
                map.Error("hash_on", $"hash_on applies to ring_hash and maglev, not {loadBalancer}");
            }
            else if (hashOn.StartsWith("header:", StringComparison.Ordinal))
            {
                hashOn = hashOn.ToLowerInvariant();
            }
        }
        var protocol = map.Enum("protocol", ClusterProtocol.Http1, ClusterProtocolNames, ClusterProtocolValues);

        // Bound before a missing name drops the cluster, so every mistake in it is reported at once.
        var connectTimeout = map.Duration("connect_timeout", TimeSpan.FromSeconds(1));
        var idleTimeout = map.Duration("idle_timeout", TimeSpan.FromHours(1));
        var pool = map.Get("pool") is { } poolNode ? BindPool(ctx, poolNode, map.ChildPath("pool")) : new PoolConfig();
        var tls = map.Get("tls") is { } tlsNode ? BindTlsClient(ctx, tlsNode, map.ChildPath("tls")) : null;
        var circuitBreaker = map.Get("circuit_breaker") is { } cb ? BindCircuitBreaker(ctx, cb, map.ChildPath("circuit_breaker")) : null;
        var outlierDetection = map.Get("outlier_detection") is { } od ? BindOutlierDetection(ctx, od, map.ChildPath("outlier_detection")) : null;
        var healthCheck = map.Get("health_check") is { } hc ? BindHealthCheck(ctx, hc, map.ChildPath("health_check")) : null;
        if (protocol == ClusterProtocol.Downstream && tls is not null)
        {
            // Over TLS the version is ALPN's to settle, and a pooled connection would have to be the one the client's asks for.
            ctx.Error(map.Get("protocol")!, map.ChildPath("protocol"), "protocol: downstream is for plain-text endpoints; with tls, choose http1 or http2");
        }

        if (name is null)
        {
            return null;
        }
        return new ClusterConfig
        {
            Name = name,
            Endpoints = endpoints,
            Protocol = protocol,
            LoadBalancer = loadBalancer,
            HashOn = hashOn,
            ConnectTimeout = connectTimeout,
            IdleTimeout = idleTimeout,
            Pool = pool,
            Tls = tls,
            CircuitBreaker = circuitBreaker,
            OutlierDetection = outlierDetection,
            HealthCheck = healthCheck,
        };
    }

    private static ConfigList<EndpointConfig> BindEndpoints(BindContext ctx, ConfigNode node, string path)
    {
        var items = ctx.ReadSequence(node, path);
        if (items is null)
        {
            return ConfigList<EndpointConfig>.Empty;
        }
        if (items.Count == 0)
        {
            ctx.Error(node, path, "a cluster needs at least one endpoint");
        }
        var list = new List<EndpointConfig>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            string itemPath = BindContext.Index(path, i);
            EndpointConfig? endpoint = null;
            if (items[i] is ConfigScalar)
            {
                // Short form: "- 10.0.0.5:9000".
                endpoint = ctx.ReadAddress(items[i], itemPath) is { } address ? new EndpointConfig { Address = address } : null;
            }
            else if (MappingView.Open(ctx, items[i], itemPath, EndpointKeys) is { } map)
            {
                var address = map.Address("address", required: true);
                int weight = map.Int("weight", 1, 1, 1_000_000);
                endpoint = address is null ? null : new EndpointConfig { Address = address.Value, Weight = weight };
            }
            if (endpoint is null)
            {
                continue;
            }
            if (endpoint.Address.Port == 0)
            {
                ctx.Error(items[i], itemPath, "an endpoint needs a real port; port 0 is only for listeners and admin");
                continue;
            }
            foreach (var existing in list)
            {
                if (existing.Address == endpoint.Address)
                {
                    ctx.Error(items[i], itemPath, $"duplicate endpoint {endpoint.Address}");
                }
            }
            list.Add(endpoint);
        }
        return ConfigList<EndpointConfig>.From(list);
    }

    private static PoolConfig BindPool(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, PoolKeys);
        var defaults = new PoolConfig();
        return map is null ? defaults : new PoolConfig
        {
            MaxIdle = map.Int("max_idle", defaults.MaxIdle),
            IdleTimeout = map.Duration("idle_timeout", defaults.IdleTimeout),
            MaxRequestsPerConnection = map.Int("max_requests_per_connection", defaults.MaxRequestsPerConnection),
        };
    }

    private static CircuitBreakerConfig? BindCircuitBreaker(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, CircuitBreakerKeys);
        var defaults = new CircuitBreakerConfig();
        return map is null ? null : new CircuitBreakerConfig
        {
            MaxConnections = map.Int("max_connections", defaults.MaxConnections, 1),
            MaxPendingRequests = map.Int("max_pending_requests", defaults.MaxPendingRequests),
            MaxRequests = map.Int("max_requests", defaults.MaxRequests, 1),
            MaxRetries = map.Int("max_retries", defaults.MaxRetries),
        };
    }

    private static OutlierDetectionConfig? BindOutlierDetection(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, OutlierKeys);
        var defaults = new OutlierDetectionConfig();
        return map is null ? null : new OutlierDetectionConfig
        {
            Consecutive5xx = map.Int("consecutive_5xx", defaults.Consecutive5xx),
            ConsecutiveGatewayErrors = map.Int("consecutive_gateway_errors", defaults.ConsecutiveGatewayErrors),
            Interval = map.Duration("interval", defaults.Interval),
            BaseEjectionTime = map.Duration("base_ejection_time", defaults.BaseEjectionTime),
            MaxEjectionPercent = map.Double("max_ejection_percent", defaults.MaxEjectionPercent, 0, 100),
        };
    }

    private static HealthCheckConfig? BindHealthCheck(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, HealthCheckKeys);
        if (map is null)
        {
            return null;
        }
        var defaults = new HealthCheckConfig();
        var type = map.Enum("type", HealthCheckType.Http, HealthCheckTypeNames, HealthCheckTypeValues);
        string? checkPath = null;
        if (type == HealthCheckType.Http)
        {
            checkPath = CheckPath(map, "path") ?? "/";
        }
        else if (map.Has("path"))
        {
            map.Error("path", "a tcp health check has no path");
        }
        return new HealthCheckConfig
        {
            Type = type,
            Path = checkPath,
            Interval = map.Duration("interval", defaults.Interval),
            Timeout = map.Duration("timeout", defaults.Timeout),
            HealthyThreshold = map.Int("healthy_threshold", defaults.HealthyThreshold, 1),
            UnhealthyThreshold = map.Int("unhealthy_threshold", defaults.UnhealthyThreshold, 1),
            ExpectedStatuses = map.IntList("expected_statuses", 100, 599),
        };
    }

    private static TlsClientConfig? BindTlsClient(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, TlsClientKeys);
        if (map is null)
        {
            return null;
        }
        string? cert = map.File("cert");
        string? key = map.File("key");
        if ((cert is null) != (key is null))
        {
            map.Error(cert is null ? "key" : "cert", "a client certificate needs both 'cert' and 'key'");
        }
        string? ca = map.File("ca");
        if (ctx.Options.CheckFiles)
        {
            if (ca is not null)
            {
                ConfiguredFiles.CheckCaBundle(map, "ca", ca);
            }
            if (cert is not null && key is not null)
            {
                ConfiguredFiles.CheckCertificateAndKey(map, "cert", cert, "key", key);
            }
        }
        return new TlsClientConfig
        {
            Sni = map.String("sni"),
            Ca = ca,
            Cert = cert,
            Key = key,
            InsecureSkipVerify = map.Bool("insecure_skip_verify", false),
            Alpn = map.Get("alpn") is { } alpn ? BindAlpn(ctx, alpn, map.ChildPath("alpn")) : ConfigList<string>.Empty,
        };
    }
}
