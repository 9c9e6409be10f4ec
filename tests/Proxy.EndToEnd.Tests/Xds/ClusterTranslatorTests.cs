using Envoy.Config.Cluster.V3;
using Envoy.Config.Core.V3;
using Envoy.Config.Endpoint.V3;
using UpstreamHttpOptions = Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions;
using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;
using Proxy.Xds.Translation;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>Cluster and ClusterLoadAssignment translation: what is mapped, and the NACK sentences for what is not.</summary>
public class ClusterTranslatorTests
{
    [Fact]
    public void Translate_MapsBalancerTimeoutsBreakersOutliersAndHttp2()
    {
        var cluster = XdsResources.EdsCluster("outbound|80||api.shop.svc.cluster.local", "api-svc");
        cluster.LbPolicy = Cluster.Types.LbPolicy.LeastRequest;
        cluster.ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(250));
        cluster.CircuitBreakers = new CircuitBreakers();
        cluster.CircuitBreakers.Thresholds.Add(new CircuitBreakers.Types.Thresholds { Priority = RoutingPriority.High, MaxRequests = 1 });
        cluster.CircuitBreakers.Thresholds.Add(new CircuitBreakers.Types.Thresholds { MaxConnections = 10, MaxRequests = 20, MaxRetries = 2 });
        cluster.OutlierDetection = new OutlierDetection { Consecutive5Xx = 3, Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)), MaxEjectionPercent = 50 };
        var options = new UpstreamHttpOptions
        {
            ExplicitHttpConfig = new UpstreamHttpOptions.Types.ExplicitHttpConfig { Http2ProtocolOptions = new Http2ProtocolOptions() },
            CommonHttpProtocolOptions = new Envoy.Config.Core.V3.HttpProtocolOptions { MaxRequestsPerConnection = 100 },
        };
        cluster.TypedExtensionProtocolOptions.Add("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.Pack(options));

        var translated = ClusterTranslator.Translate(cluster);
        var config = translated.Config;
        Assert.Equal("api-svc", translated.EdsServiceName);
        Assert.Equal("least_request", config.LoadBalancer);
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.ConnectTimeout);
        Assert.Equal(ClusterProtocol.Http2, config.Protocol);
        Assert.Equal(100, config.Pool.MaxRequestsPerConnection);
        Assert.Equal(new CircuitBreakerConfig { MaxConnections = 10, MaxPendingRequests = 1024, MaxRequests = 20, MaxRetries = 2 }, config.CircuitBreaker);
        Assert.Equal(3, config.OutlierDetection!.Consecutive5xx);
        Assert.Equal(0, config.OutlierDetection.ConsecutiveGatewayErrors);
        Assert.Equal(TimeSpan.FromSeconds(2), config.OutlierDetection.Interval);
        Assert.Equal(50, config.OutlierDetection.MaxEjectionPercent);
    }

    [Fact]
    public void Translate_StaticAndStrictDns_TakeTheirInlineEndpoints()
    {
        var cluster = XdsResources.StaticCluster("db", "10.0.0.5:5432");
        cluster.Type = Cluster.Types.DiscoveryType.StrictDns;
        cluster.LoadAssignment.Endpoints[0].LbEndpoints[0].Endpoint.Address.SocketAddress.Address = "db.internal";
        var translated = ClusterTranslator.Translate(cluster);
        Assert.Null(translated.EdsServiceName);
        Assert.Equal([new EndpointConfig { Address = new HostPort("db.internal", 5432) }], translated.Config.Endpoints);
    }

    [Fact]
    public void Translate_OriginalDst_AsIstioSendsItsInboundClusters()
    {
        var cluster = new Cluster
        {
            Name = "inbound|8080||",
            Type = Cluster.Types.DiscoveryType.OriginalDst,
            LbPolicy = Cluster.Types.LbPolicy.ClusterProvided,
            CleanupInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(60)),
            OriginalDstLbConfig = new Cluster.Types.OriginalDstLbConfig { UpstreamPortOverride = 8080 },
            UpstreamBindConfig = new BindConfig { SourceAddress = new SocketAddress { Address = "127.0.0.6", PortValue = 0 } },
        };

        var translated = ClusterTranslator.Translate(cluster);
        Assert.Null(translated.EdsServiceName);
        Assert.Empty(translated.Config.Endpoints);
        Assert.Equal(new OriginalDestinationConfig { PortOverride = 8080, CleanupInterval = TimeSpan.FromSeconds(60) }, translated.Config.OriginalDestination);
        Assert.Equal(System.Net.IPAddress.Parse("127.0.0.6"), translated.Config.SourceAddress);

        // Istio's PassthroughCluster: nothing but the type; Envoy's 5 s cleanup.
        var passthrough = ClusterTranslator.Translate(new Cluster { Name = "PassthroughCluster", Type = Cluster.Types.DiscoveryType.OriginalDst, LbPolicy = Cluster.Types.LbPolicy.ClusterProvided }).Config;
        Assert.Equal(new OriginalDestinationConfig(), passthrough.OriginalDestination);
        Assert.Null(passthrough.SourceAddress);
        Assert.Null(ClusterTranslator.Translate(XdsResources.EdsCluster("api")).Config.OriginalDestination);
    }

    [Fact]
    public void Translate_UseDownstreamProtocolConfig_AsOnIstiosPassthroughCluster_FollowsTheClient_PlainTextOnly()
    {
        var options = new UpstreamHttpOptions
        {
            CommonHttpProtocolOptions = new Envoy.Config.Core.V3.HttpProtocolOptions { IdleTimeout = Duration.FromTimeSpan(TimeSpan.FromHours(1)) },
            UseDownstreamProtocolConfig = new UpstreamHttpOptions.Types.UseDownstreamHttpConfig
            {
                HttpProtocolOptions = new Http1ProtocolOptions(),
                Http2ProtocolOptions = new Http2ProtocolOptions(),
            },
        };
        var passthrough = new Cluster { Name = "PassthroughCluster", Type = Cluster.Types.DiscoveryType.OriginalDst, LbPolicy = Cluster.Types.LbPolicy.ClusterProvided };
        passthrough.TypedExtensionProtocolOptions.Add("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.Pack(options));
        Assert.Equal(ClusterProtocol.Downstream, ClusterTranslator.Translate(passthrough).Config.Protocol);

        var tls = XdsResources.EdsCluster("c");
        tls.TypedExtensionProtocolOptions.Add("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.Pack(options));
        tls.TransportSocket = new TransportSocket
        {
            Name = "envoy.transport_sockets.tls",
            TypedConfig = Any.Pack(new Envoy.Extensions.TransportSockets.Tls.V3.UpstreamTlsContext { Sni = "c.local" }),
        };
        var error = Assert.Throws<XdsRejectedException>(() => ClusterTranslator.Translate(tls));
        Assert.Equal("cluster 'c': typed_extension_protocol_options.use_downstream_protocol_config: following the client's HTTP version is supported for plain-text endpoints only; over TLS use explicit_http_config", error.Message);
    }

    public static TheoryData<string, Action<Cluster>, string> Unsupported => new()
    {
        { "original_dst balanced", c => { c.Type = Cluster.Types.DiscoveryType.OriginalDst; c.LbPolicy = Cluster.Types.LbPolicy.Maglev; }, "cluster 'c': lb_policy: an ORIGINAL_DST cluster connects to each connection's own destination, so it cannot balance with Maglev; use CLUSTER_PROVIDED" },
        { "original_dst header", c => { c.Type = Cluster.Types.DiscoveryType.OriginalDst; c.OriginalDstLbConfig = new Cluster.Types.OriginalDstLbConfig { UseHttpHeader = true }; }, "cluster 'c': original_dst_lb_config.use_http_header: choosing the destination from a request header" },
        { "original_dst endpoints", c => { c.Type = Cluster.Types.DiscoveryType.OriginalDst; c.LoadAssignment = XdsResources.Assignment("c", "10.0.0.1:80"); }, "cluster 'c': load_assignment: an ORIGINAL_DST cluster takes its endpoints from the connections' destinations" },
        { "bind port", c => c.UpstreamBindConfig = new BindConfig { SourceAddress = new SocketAddress { Address = "127.0.0.6", PortValue = 5000 } }, "cluster 'c': upstream_bind_config.source_address: a fixed source port is not supported" },
        { "bind name", c => c.UpstreamBindConfig = new BindConfig { SourceAddress = new SocketAddress { Address = "localhost" } }, "cluster 'c': upstream_bind_config.source_address.address: 'localhost' is not an IP address" },
        { "freebind", c => c.UpstreamBindConfig = new BindConfig { Freebind = true }, "cluster 'c': upstream_bind_config: only source_address is supported" },
        { "alts", c => c.TransportSocket = new TransportSocket { Name = "envoy.transport_sockets.alts" }, "cluster 'c': transport_socket: transport socket 'envoy.transport_sockets.alts' (no typed_config) is not supported; use envoy.transport_sockets.tls with an UpstreamTlsContext, or raw_buffer" },
        { "matches", c => c.TransportSocketMatches.Add(new Cluster.Types.TransportSocketMatch { Name = "tlsMode-istio" }), "cluster 'c': transport_socket_matches[0].transport_socket: match 'tlsMode-istio' has no transport_socket" },
        { "health checks", c => c.HealthChecks.Add(new HealthCheck()), "cluster 'c': health_checks:" },
        { "lb", c => c.LbPolicy = Cluster.Types.LbPolicy.ClusterProvided, "cluster 'c': lb_policy: ClusterProvided is not supported" },
        { "eds source", c => c.EdsClusterConfig.EdsConfig = new ConfigSource { PathConfigSource = new PathConfigSource { Path = "/etc/eds.yaml" } }, "cluster 'c': eds_cluster_config.eds_config: endpoints from PathConfigSource are not supported" },
        { "locality lb", c => c.CommonLbConfig = new Cluster.Types.CommonLbConfig { LocalityWeightedLbConfig = new() }, "cluster 'c': common_lb_config:" },
        { "custom type", c => c.ClusterType = new Cluster.Types.CustomClusterType { Name = "envoy.clusters.aggregate" }, "cluster 'c': cluster_type: custom cluster type 'envoy.clusters.aggregate' is not supported" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Translate_RejectsFieldsThatChangeMeaning_NamingClusterAndField(string what, Action<Cluster> change, string expected)
    {
        _ = what;
        var cluster = XdsResources.EdsCluster("c");
        change(cluster);
        var error = Assert.Throws<XdsRejectedException>(() => ClusterTranslator.Translate(cluster));
        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void Assignment_HonoursHealthWeightsAndPriorities()
    {
        var assignment = XdsResources.Assignment("api", "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
        var lb = assignment.Endpoints[0].LbEndpoints;
        lb[0].HealthStatus = HealthStatus.Unhealthy;
        lb[1].HealthStatus = HealthStatus.Draining;
        lb[2].LoadBalancingWeight = 7;
        var failover = XdsResources.Assignment("api", "10.0.1.1:80").Endpoints[0];
        failover.Priority = 1;
        assignment.Endpoints.Add(failover);
        Assert.Equal([new EndpointConfig { Address = new HostPort("10.0.0.3", 80), Weight = 7 }], LoadAssignmentTranslator.Translate(assignment, "api"));

        // Nothing usable at priority 0: priority 1 serves.
        lb[2].HealthStatus = HealthStatus.Timeout;
        Assert.Equal([new EndpointConfig { Address = new HostPort("10.0.1.1", 80) }], LoadAssignmentTranslator.Translate(assignment, "api"));
    }

    [Fact]
    public void Assignment_RejectsPipesAndNamedPorts()
    {
        var assignment = XdsResources.Assignment("api", "10.0.0.1:80");
        assignment.Endpoints[0].LbEndpoints[0].Endpoint.Address = new Address { Pipe = new Pipe { Path = "/tmp/s" } };
        var error = Assert.Throws<XdsRejectedException>(() => LoadAssignmentTranslator.Translate(assignment, "api"));
        Assert.Equal("ClusterLoadAssignment 'api': endpoints[0].lb_endpoints[0].endpoint.address: only socket addresses (address and port_value) are supported", error.Message);
    }
}
