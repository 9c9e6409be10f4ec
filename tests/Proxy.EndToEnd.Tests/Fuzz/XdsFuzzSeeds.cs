using Envoy.Config.Cluster.V3;
using Envoy.Config.Core.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Config.Route.V3;
using Envoy.Type.Matcher.V3;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Proxy.EndToEnd.Tests.Xds;
using Proxy.Fuzz.XdsTargets;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;
using RetryPolicy = Envoy.Config.Route.V3.RetryPolicy;
using UpstreamHttpOptions = Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions;

namespace Proxy.EndToEnd.Tests.Fuzz;

/// <summary>
/// The seed corpus of the xds-translation fuzz target (fuzz/corpus/xds-translation), made from the xDS tests' own
/// resource builders: one file per resource, its first byte the <see cref="XdsResourceKind"/>, the rest the resource's
/// protobuf encoding. <see cref="XdsFuzzRegressionTests"/> checks that the committed files are these, and writes them
/// when PROXY_FUZZ_WRITE_SEEDS=1.
/// </summary>
public static class XdsFuzzSeeds
{
    public static IReadOnlyList<(string Name, XdsResourceKind Kind, IMessage Resource)> All { get; } =
    [
        ("cluster-eds-istio", XdsResourceKind.Cluster, IstioCluster()),
        ("cluster-static", XdsResourceKind.Cluster, XdsResources.StaticCluster("static", "127.0.0.1:8080", "127.0.0.2:8080")),
        ("cla-priorities", XdsResourceKind.ClusterLoadAssignment, Assignment()),
        ("listener-rds", XdsResourceKind.Listener, HttpListener("http", 8080, "8080")),
        ("listener-inline", XdsResourceKind.Listener, InlineHttpListener("inline", 8081, Routes("inline", Prefix("/", "web")))),
        ("listener-tcp", XdsResourceKind.Listener, TcpListener("tcp", 9000, "db")),
        ("routes-full", XdsResourceKind.RouteConfiguration, RichRoutes()),
        ("secret-certificate", XdsResourceKind.Secret, XdsTlsResources.CertificateSecret("default", "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----\n")),
        ("secret-ca", XdsResourceKind.Secret, XdsTlsResources.CaSecret("ROOTCA", "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n")),
    ];

    /// <summary>The bytes of one seed file.</summary>
    public static byte[] Encode(XdsResourceKind kind, IMessage resource) => [(byte)kind, .. resource.ToByteArray()];

    private static Cluster IstioCluster()
    {
        var cluster = XdsResources.EdsCluster("outbound|80||api.shop.svc.cluster.local", "api-svc");
        cluster.LbPolicy = Cluster.Types.LbPolicy.LeastRequest;
        cluster.ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(250));
        cluster.CircuitBreakers = new CircuitBreakers();
        cluster.CircuitBreakers.Thresholds.Add(new CircuitBreakers.Types.Thresholds { MaxConnections = 10, MaxRequests = 20, MaxRetries = 2 });
        cluster.OutlierDetection = new OutlierDetection { Consecutive5Xx = 3, Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)), MaxEjectionPercent = 50 };
        var options = new UpstreamHttpOptions
        {
            ExplicitHttpConfig = new UpstreamHttpOptions.Types.ExplicitHttpConfig { Http2ProtocolOptions = new Http2ProtocolOptions() },
            CommonHttpProtocolOptions = new Envoy.Config.Core.V3.HttpProtocolOptions { MaxRequestsPerConnection = 100 },
        };
        cluster.TypedExtensionProtocolOptions.Add("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.Pack(options));
        XdsTlsResources.AddIstioMatches(cluster, XdsTlsResources.IstioMutual("spiffe://cluster.local/ns/shop/sa/api", XdsTlsResources.Ads()));
        return cluster;
    }

    private static ClusterLoadAssignment Assignment()
    {
        var assignment = XdsResources.Assignment("api-svc", "10.0.0.1:8080", "10.0.0.2:8080");
        assignment.Endpoints[0].LbEndpoints[0].LoadBalancingWeight = 3;
        XdsTlsResources.MarkIstio(assignment.Endpoints[0].LbEndpoints[0]);
        assignment.Endpoints[0].LbEndpoints[1].HealthStatus = HealthStatus.Draining;
        var backup = XdsResources.Assignment("api-svc", "10.0.1.1:8080").Endpoints[0];
        backup.Priority = 1;
        assignment.Endpoints.Add(backup);
        return assignment;
    }

    private static RouteConfiguration RichRoutes()
    {
        var route = new Route
        {
            Name = "api",
            Match = new RouteMatch { Prefix = "/api/", CaseSensitive = false },
            Route_ = new RouteAction
            {
                WeightedClusters = new WeightedCluster(),
                Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)),
                PrefixRewrite = "/v2/",
                HostRewriteLiteral = "api.internal",
                RetryPolicy = new RetryPolicy
                {
                    RetryOn = "connect-failure,refused-stream,unavailable,retriable-status-codes",
                    NumRetries = 2,
                    PerTryTimeout = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(500)),
                    RetriableStatusCodes = { 503 },
                },
            },
        };
        route.Route_.WeightedClusters.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = "v1", Weight = 90 });
        route.Route_.WeightedClusters.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = "v2", Weight = 10 });
        route.Match.Headers.Add(new HeaderMatcher { Name = "x-env", StringMatch = new StringMatcher { Exact = "prod" } });
        route.Match.Headers.Add(new HeaderMatcher { Name = "x-user", StringMatch = new StringMatcher { Suffix = ".internal", IgnoreCase = true } });
        route.Match.QueryParameters.Add(new QueryParameterMatcher { Name = "id", StringMatch = new StringMatcher { SafeRegex = new RegexMatcher { Regex = "[0-9]+" } } });
        route.RequestHeadersToAdd.Add(new HeaderValueOption { Header = new HeaderValue { Key = "x-added", Value = "1" } });
        route.ResponseHeadersToRemove.Add("server");
        var redirect = new Route { Match = new RouteMatch { Path = "/old" }, Redirect = new RedirectAction { PathRedirect = "/new" } };
        var direct = new Route { Match = new RouteMatch { SafeRegex = new RegexMatcher { Regex = "/health/[a-z]+" } }, DirectResponse = new DirectResponseAction { Status = 200 } };
        var config = Routes("8080", route, redirect, direct, Prefix("/", "web"));
        config.VirtualHosts[0].Domains.Add("api.shop.svc.cluster.local:8080");
        return config;
    }
}
