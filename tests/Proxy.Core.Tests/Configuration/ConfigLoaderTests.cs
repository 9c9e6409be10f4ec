using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

public class ConfigLoaderTests
{
    private const string Minimal = """
        listeners:
          - name: web
            address: 0.0.0.0:8080
            routes:
              - cluster: api
        clusters:
          - name: api
            endpoints: [ 10.0.0.5:9000 ]
        """;

    [Fact]
    public void LoadFile_YamlAndEquivalentJson_ProduceEqualModels()
    {
        var yaml = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.yaml"));
        var json = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.json"));

        Assert.True(yaml.Success, string.Join("\n", yaml.Errors));
        Assert.True(json.Success, string.Join("\n", json.Errors));
        Assert.Equal(yaml.Config, json.Config);
    }

    [Fact]
    public void LoadFile_FullExample_BindsEverySection()
    {
        var result = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.yaml"));
        Assert.True(result.Success, string.Join("\n", result.Errors));
        var config = result.Config;
        string dir = Path.GetDirectoryName(ConfigTestData.PathOf("full.yaml"))!;

        Assert.Equal(new HostPort("127.0.0.1", 15090), config.Admin.Address);
        Assert.True(config.Admin.AllowRemoteControl);
        Assert.Equal(new HostPort("0.0.0.0", 15091), config.Stats!.Address);
        Assert.Equal(TimeSpan.FromSeconds(20), config.DrainTime);
        Assert.Equal(TimeSpan.FromSeconds(10), config.DrainTimeout);
        Assert.Equal(new LogConfig { Format = "json", Level = "debug", AccessLog = Path.Combine(dir, "logs", "access.log") }, config.Log);

        var web = config.Listeners[0];
        Assert.Equal("web", web.Name);
        Assert.Equal(TimeSpan.FromMinutes(2), web.IdleTimeout);
        Assert.Equal(new HttpLimitsConfig { MaxHeaderBytes = 32 * 1024, MaxRequestTargetBytes = 4096, MaxBodyBytes = 10 << 20, HeaderTimeout = TimeSpan.FromSeconds(5) }, web.Limits);
        Assert.Equal(new RateLimitConfig { RequestsPerSecond = 1000, Burst = 2000 }, web.RateLimit);
        Assert.Equal(Path.Combine(dir, "tls", "web.pem"), web.Tls!.Certificates[0].Cert);
        Assert.Equal(["example.com", "*.example.com"], web.Tls.Certificates[0].Sni);
        Assert.True(web.Tls.RequireClientCert);
        Assert.Equal(["http/1.1"], web.Tls.Alpn);

        var canary = web.Routes[0];
        Assert.Equal("canary", canary.Name);
        Assert.Equal("api.example.com", canary.Match.Host);
        Assert.Equal([new HeaderMatchConfig { Name = "x-canary", Kind = HeaderMatchKind.Exact, Value = "1" }], canary.Match.Headers);
        Assert.Equal(["GET", "POST"], canary.Match.Methods);

        var health = web.Routes[1];
        Assert.Equal("/health", health.Match.PathExact);
        Assert.Equal(
            [
                new HeaderMatchConfig { Name = "x-a", Kind = HeaderMatchKind.Exact, Value = "1" },
                new HeaderMatchConfig { Name = "x-b", Kind = HeaderMatchKind.Present },
                new HeaderMatchConfig { Name = "x-c", Kind = HeaderMatchKind.Regex, Value = "^v[0-9]+$" },
                new HeaderMatchConfig { Name = "x-d", Kind = HeaderMatchKind.Prefix, Value = "beta" },
            ],
            health.Match.Headers);
        Assert.Equal(["GET"], health.Match.Methods);
        Assert.Equal(new FaultDelayConfig { Duration = TimeSpan.FromMilliseconds(1500), Percent = 12.5 }, health.Fault!.Delay);
        Assert.Equal(new FaultAbortConfig { Status = 503, Percent = 1 }, health.Fault.Abort);
        Assert.Single(health.Fault.Headers);

        var split = web.Routes[2];
        Assert.Null(split.Cluster);
        Assert.Equal([new WeightedClusterConfig { Cluster = "api", Weight = 90 }, new WeightedClusterConfig { Cluster = "api-canary", Weight = 10 }], split.Split);
        Assert.Equal(TimeSpan.FromSeconds(5), split.Timeout);
        var retries = split.Retries!;
        Assert.Equal(3, retries.Attempts);
        Assert.Equal(["connect-failure", "reset", "5xx", "retriable-status-codes", "unavailable"], retries.RetryOn);
        Assert.Equal([409, 429], retries.StatusCodes);
        Assert.Equal(TimeSpan.FromSeconds(1), retries.PerTryTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(10), retries.BackoffBase);
        Assert.Equal(new RetryBudgetConfig { Ratio = 0.5, MinPerSecond = 5 }, retries.Budget);
        Assert.Equal(new MirrorConfig { Cluster = "shadow", Percent = 25 }, split.Mirror);
        Assert.Equal(new RateLimitConfig { RequestsPerSecond = 50, Burst = 50 }, split.RateLimit);

        var db = config.Listeners[1];
        Assert.Equal(ListenerProtocol.Tcp, db.Protocol);
        Assert.Equal(new HostPort("::1", 5432), db.Address);
        Assert.Equal("db", db.Cluster);
        Assert.Equal(TimeSpan.FromMilliseconds(250), db.ConnectTimeout);

        var api = config.Clusters[0];
        Assert.Equal([new EndpointConfig { Address = new HostPort("10.0.0.5", 9000) }, new EndpointConfig { Address = new HostPort("10.0.0.6", 9000), Weight = 3 }], api.Endpoints);
        Assert.Equal(ClusterProtocol.Http2, api.Protocol);
        Assert.Equal("peak_ewma", api.LoadBalancer);
        Assert.Equal(new PoolConfig { MaxIdle = 16, IdleTimeout = TimeSpan.FromSeconds(30), MaxRequestsPerConnection = 1000 }, api.Pool);
        Assert.Equal("api.internal", api.Tls!.Sni);
        Assert.Equal(Path.Combine(dir, "tls", "client.key"), api.Tls.Key);
        Assert.Equal(new CircuitBreakerConfig { MaxConnections = 100, MaxPendingRequests = 10, MaxRequests = 200, MaxRetries = 5 }, api.CircuitBreaker);
        Assert.Equal(TimeSpan.FromMinutes(1), api.OutlierDetection!.BaseEjectionTime);
        Assert.Equal(50, api.OutlierDetection.MaxEjectionPercent);
        Assert.Equal("/healthz", api.HealthCheck!.Path);
        Assert.Equal([200, 204], api.HealthCheck.ExpectedStatuses);
        Assert.Equal("header:x-user", config.Clusters[1].HashOn);
        Assert.Equal(new HostPort("api-canary.local", 9000), config.Clusters[1].Endpoints[0].Address);
        Assert.Equal(new HealthCheckConfig { Type = HealthCheckType.Tcp }, config.Clusters[2].HealthCheck);

        var mesh = config.Mesh!;
        Assert.Equal("/etc/mesh/ca.pem", mesh.Identity.Ca);
        Assert.Equal(TimeSpan.FromMilliseconds(200), mesh.DetectTimeout);
        Assert.Equal([3306, 25], mesh.OpaquePorts);
        Assert.Equal(MeshInboundMode.Permissive, mesh.Inbound.Mode);
        Assert.Equal("127.0.0.2", mesh.Inbound.AppAddress);
        Assert.Equal(new AuthorizationRuleConfig { Action = AuthorizationAction.Deny, Paths = new ConfigList<string>(["/admin"]) }, mesh.Inbound.Authorization[0]);
        Assert.Equal(AuthorizationAction.Allow, mesh.Inbound.Authorization[1].Action);
        Assert.Equal([8080], mesh.Inbound.Authorization[1].Ports);
        Assert.Equal(new MeshServiceConfig { Address = new HostPort("10.96.0.10", 80), Cluster = "api", Identity = "spiffe://mesh.local/ns/shop/sa/api" }, mesh.Outbound.Services[0]);
    }

    [Fact]
    public void LoadText_MinimalFile_AppliesDefaults()
    {
        var config = ConfigTestData.LoadValid(Minimal);

        Assert.Equal(new HostPort("127.0.0.1", 15000), config.Admin.Address);
        Assert.False(config.Admin.AllowRemoteControl);
        Assert.Null(config.Stats);
        Assert.Equal(TimeSpan.FromSeconds(5), config.DrainTime);
        Assert.Equal(TimeSpan.FromSeconds(5), config.DrainTimeout);
        Assert.Equal(new LogConfig { Format = "text", Level = "info", AccessLog = null }, config.Log);
        Assert.Null(config.Mesh);
        var listener = config.Listeners[0];
        Assert.Equal(ListenerProtocol.Http, listener.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(300), listener.IdleTimeout);
        Assert.Null(listener.ConnectTimeout);
        Assert.Null(listener.Tls);
        Assert.Null(listener.RateLimit);
        Assert.Equal(64 * 1024, listener.Limits.MaxHeaderBytes);
        Assert.Equal(8 * 1024, listener.Limits.MaxRequestTargetBytes);
        Assert.Equal(0, listener.Limits.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), listener.Limits.HeaderTimeout);
        var route = listener.Routes[0];
        Assert.Equal(new RouteMatchConfig(), route.Match);
        Assert.Empty(route.Split);
        Assert.Null(route.Timeout);
        Assert.Null(route.Retries);
        var cluster = config.Clusters[0];
        Assert.Equal(1, cluster.Endpoints[0].Weight);
        Assert.Equal(ClusterProtocol.Http1, cluster.Protocol);
        Assert.Equal("round_robin", cluster.LoadBalancer);
        Assert.Null(cluster.HashOn);
        Assert.Equal(TimeSpan.FromSeconds(1), cluster.ConnectTimeout);
        Assert.Equal(TimeSpan.FromHours(1), cluster.IdleTimeout);
        Assert.Equal(new PoolConfig { MaxIdle = 10_000, IdleTimeout = TimeSpan.FromSeconds(60), MaxRequestsPerConnection = 0 }, cluster.Pool);
        Assert.Null(cluster.Tls);
        Assert.Null(cluster.CircuitBreaker);
        Assert.Null(cluster.OutlierDetection);
        Assert.Null(cluster.HealthCheck);
    }

    [Fact]
    public void LoadText_EmptySections_ApplyNestedDefaults()
    {
        var config = ConfigTestData.LoadValid("""
            listeners:
              - name: web
                address: 0.0.0.0:8080
                routes:
                  - cluster: api
                    retries: {}
            clusters:
              - name: api
                endpoints: [ 10.0.0.5:9000 ]
                circuit_breaker: {}
                outlier_detection: {}
                health_check: {}
            mesh:
              identity: { cert: c.pem, key: k.pem, ca: ca.pem }
            """);

        Assert.Equal(new RetryConfig(), config.Listeners[0].Routes[0].Retries);
        Assert.Equal(1, config.Listeners[0].Routes[0].Retries!.Attempts);
        Assert.Equal(["connect-failure"], config.Listeners[0].Routes[0].Retries!.RetryOn);
        Assert.Equal(TimeSpan.FromMilliseconds(25), config.Listeners[0].Routes[0].Retries!.BackoffBase);
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.Listeners[0].Routes[0].Retries!.BackoffMax);
        Assert.Equal(new CircuitBreakerConfig(), config.Clusters[0].CircuitBreaker);
        Assert.Equal(new OutlierDetectionConfig { Consecutive5xx = 5, Interval = TimeSpan.FromSeconds(10), BaseEjectionTime = TimeSpan.FromSeconds(30), MaxEjectionPercent = 10 }, config.Clusters[0].OutlierDetection);
        Assert.Equal(new HealthCheckConfig { Path = "/", Interval = TimeSpan.FromSeconds(5), Timeout = TimeSpan.FromSeconds(1), HealthyThreshold = 2, UnhealthyThreshold = 3 }, config.Clusters[0].HealthCheck);
        var mesh = config.Mesh!;
        Assert.Equal(TimeSpan.FromMilliseconds(100), mesh.DetectTimeout);
        Assert.Equal(15006, mesh.Inbound.Port);
        Assert.Equal(MeshInboundMode.Strict, mesh.Inbound.Mode);
        Assert.Equal("127.0.0.1", mesh.Inbound.AppAddress);
        Assert.Equal(15001, mesh.Outbound.Port);
    }

    [Fact]
    public void LoadText_DesignDocumentExample_IsValid()
    {
        var config = ConfigTestData.LoadValid("""
            admin: { address: 127.0.0.1:15000 }
            listeners:
              - name: web
                address: 0.0.0.0:8080
                protocol: http
                routes:
                  - match: { path_prefix: /api/, headers: { x-canary: "1" } }
                    cluster: api-canary
                  - match: { path_prefix: / }
                    split: [ { cluster: api, weight: 90 }, { cluster: api-canary, weight: 10 } ]
                    timeout: 5s
                    retries: { attempts: 3, retry_on: [connect-failure, reset, 5xx], per_try_timeout: 1s }
            clusters:
              - name: api
                endpoints: [ 10.0.0.5:9000, 10.0.0.6:9000 ]
                load_balancer: peak_ewma
              - name: api-canary
                endpoints: [ 10.0.0.7:9000 ]
            mesh:
              identity: { cert: tls/cert.pem, key: tls/key.pem, ca: tls/ca.pem }
              detect_timeout: 100ms
              opaque_ports: [ 3306, 25 ]
              inbound:
                port: 15006
                mode: strict                      # strict | permissive
                authorization:
                  - allow: { principals: [ spiffe://mesh.local/ns/shop/sa/web ], ports: [ 8080 ], methods: [ GET ] }
              outbound:
                port: 15001
                services:                         # destinations the app dials, by virtual address
                  - address: 10.96.0.10:80
                    cluster: api
                    identity: spiffe://mesh.local/ns/shop/sa/api
            """);

        Assert.Equal(2, config.Listeners[0].Routes.Count);
        Assert.Equal(2, config.Clusters.Count);
    }

    [Fact]
    public void LoadText_AnchorsAndAliases_AreExpanded()
    {
        var config = ConfigTestData.LoadValid("""
            listeners:
              - name: a
                address: 0.0.0.0:8080
                routes: &routes
                  - cluster: api
              - name: b
                address: 0.0.0.0:8081
                routes: *routes
            clusters:
              - name: api
                endpoints: [ 10.0.0.5:9000 ]
            """);

        Assert.Equal(config.Listeners[0].Routes, config.Listeners[1].Routes);
    }

    [Fact]
    public void LoadText_AutoListenerWithClusterAndRoutes_IsValid()
    {
        var config = ConfigTestData.LoadValid("""
            listeners:
              - { name: a, address: 0.0.0.0:8080, protocol: auto, cluster: api, routes: [ { cluster: api } ] }
            clusters:
              - { name: api, endpoints: [ 10.0.0.5:9000 ] }
            """);

        Assert.Equal(ListenerProtocol.Auto, config.Listeners[0].Protocol);
        Assert.Equal("api", config.Listeners[0].Cluster);
    }

    [Fact]
    public void LoadText_CustomLoadBalancerOption_IsAccepted()
    {
        const string yaml = """
            clusters:
              - { name: api, endpoints: [ 10.0.0.5:9000 ], load_balancer: power_of_two }
            """;
        var options = new ConfigValidationOptions { LoadBalancers = ["power_of_two"] };

        Assert.False(ConfigTestData.Load(yaml).Success);
        var result = ConfigLoader.LoadText(yaml, "x.yaml", options);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.Equal("power_of_two", result.Config.Clusters[0].LoadBalancer);
    }

    [Fact]
    public void LoadText_LoadedTwice_ModelsAreEqualWithEqualHashes()
    {
        var a = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.yaml")).Config;
        var b = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.yaml")).Config;

        Assert.Equal(a, b);
        Assert.Equal(a!.GetHashCode(), b!.GetHashCode());
        Assert.NotEqual(a, a with { DrainTimeout = TimeSpan.FromSeconds(1) });
    }

    [Fact]
    public void LoadFile_MissingFile_ReportsError()
    {
        var result = ConfigLoader.LoadFile(ConfigTestData.PathOf("does-not-exist.yaml"));

        Assert.False(result.Success);
        var message = Assert.Single(result.Errors).Message;
        Assert.Contains("the configuration file", message);
        Assert.Contains("does-not-exist.yaml does not exist", message);
    }

    [Fact]
    public void LoadFile_FullExample_BindsOutboundServiceProtocolsRoutesAndDefaults()
    {
        var mesh = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.yaml")).Config!.Mesh!;
        var services = mesh.Outbound.Services;

        Assert.Equal(MeshServiceProtocol.Auto, services[0].Protocol);
        Assert.Empty(services[0].Routes);
        Assert.Null(services[0].Retries); // the runtime uses MeshServiceConfig.DefaultRetries
        Assert.Equal(MeshServiceProtocol.Http, services[1].Protocol);
        Assert.Equal(TimeSpan.FromSeconds(3), services[1].Timeout);
        Assert.True(services[0].MultiplexHttp1);
        Assert.False(services[1].MultiplexHttp1);
        Assert.Equal(3, services[1].Retries!.Attempts);
        Assert.Equal(2, services[1].Routes.Count);
        Assert.Equal(["api", "api-canary"], services[1].Routes[0].Split.Select(s => s.Cluster));
        Assert.Equal(MeshServiceProtocol.Tcp, services[2].Protocol);
        Assert.Equal([502, 503], MeshServiceConfig.DefaultRetries.StatusCodes);
    }

    [Fact]
    public void LoadText_MeshWorkload_NamesEnvironmentVariables()
    {
        Environment.SetEnvironmentVariable("PROXY_TEST_WORKLOAD_NS", "shop");
        var config = ConfigTestData.LoadValid("""
            listeners: []
            clusters: []
            mesh:
              identity: { cert: c, key: k, ca: a }
              workload: { name: "web-${PROXY_TEST_WORKLOAD_NS}", namespace: "${PROXY_TEST_WORKLOAD_NS}", version: v2 }
            """);

        Assert.Equal(new MeshWorkloadConfig { Name = "web-shop", Namespace = "shop", Version = "v2" }, config.Mesh!.Workload);
    }
}
