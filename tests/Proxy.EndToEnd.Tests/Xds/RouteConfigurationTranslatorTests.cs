using Envoy.Config.Core.V3;
using Envoy.Config.Route.V3;
using Envoy.Type.Matcher.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;
using Proxy.Xds.Translation;
using RetryPolicy = Envoy.Config.Route.V3.RetryPolicy;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>RouteConfiguration translation: virtual hosts, matches, actions, header changes, and the NACK sentences.</summary>
public class RouteConfigurationTranslatorTests
{
    private static string Rejected(params Route[] routes) =>
        Assert.Throws<XdsRejectedException>(() => RouteConfigurationTranslator.Translate(Routes("rc", routes))).Message;

    /// <summary>
    /// A Duration whose nanos exceed a second (or whose sign differs from the seconds') is not one; Google.Protobuf's
    /// conversion threw InvalidOperationException through the translator, which ended the ADS stream instead of a NACK.
    /// </summary>
    [Theory]
    [InlineData(0, 1_000_000_000)]
    [InlineData(1, -5)]
    [InlineData(315_576_000_001, 0)]
    public void Translate_UnnormalizedDuration_IsARejectionNamingTheField(long seconds, int nanos)
    {
        var route = Prefix("/", "web");
        route.Route_.Timeout = new Duration { Seconds = seconds, Nanos = nanos };
        Assert.Equal($"route_configuration 'rc': virtual_hosts[0] 'all': routes[0]: route.timeout: {{ seconds: {seconds}, nanos: {nanos} }} is not a valid duration; nanos must be under one second and have the sign of seconds", Rejected(route));
    }

    [Fact]
    public void Translate_RouteNamesRepeatedAcrossVirtualHosts_AsIstiodSendsThem_AreQualifiedByTheirHost()
    {
        // istiod names the one route of every outbound virtual host "default"; Envoy takes names as labels.
        static VirtualHost Host(string name, params string[] routes)
        {
            var host = new VirtualHost { Name = name, Domains = { name } };
            foreach (var route in routes)
            {
                var each = Prefix("/", "outbound|80||" + name);
                each.Name = route;
                host.Routes.Add(each);
            }

            return host;
        }

        var config = new RouteConfiguration { Name = "80" };
        config.VirtualHosts.Add(Host("reviews.default.svc.cluster.local:80", "default"));
        config.VirtualHosts.Add(Host("ratings.default.svc.cluster.local:80", "default", "only-here"));
        config.VirtualHosts.Add(Host("twice", "again", "again"));

        var hosts = RouteConfigurationTranslator.Translate(config).VirtualHosts;
        Assert.Equal(
            ["reviews.default.svc.cluster.local:80/default", "ratings.default.svc.cluster.local:80/default", "only-here", "twice/again/0", "twice/again/1"],
            hosts.SelectMany(static h => h.Routes).Select(static r => r.Name));
    }

    [Fact]
    public void Translate_MapsMatchesAndTheForwardingAction()
    {
        var route = new Route
        {
            Name = "api",
            Match = new RouteMatch { Prefix = "/api/", CaseSensitive = false, Grpc = new RouteMatch.Types.GrpcRouteMatchOptions() },
            Route_ = new RouteAction
            {
                WeightedClusters = new WeightedCluster(),
                Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)),
                PrefixRewrite = "/v2/",
                HostRewriteLiteral = "api.internal",
                RetryPolicy = new RetryPolicy
                {
                    RetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
                    NumRetries = 2,
                    PerTryTimeout = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(500)),
                    RetriableStatusCodes = { 503 },
                },
            },
        };
        route.Route_.WeightedClusters.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = "v1", Weight = 90 });
        route.Route_.WeightedClusters.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = "v2", Weight = 10 });
        route.Route_.WeightedClusters.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = "dark", Weight = 0 });
        route.Match.Headers.Add(new HeaderMatcher { Name = "x-env", StringMatch = new StringMatcher { Exact = "prod" } });
        route.Match.Headers.Add(new HeaderMatcher { Name = "x-user", StringMatch = new StringMatcher { Suffix = ".internal", IgnoreCase = true } });
        route.Match.Headers.Add(new HeaderMatcher { Name = "x-debug", PresentMatch = false });
        route.Match.Headers.Add(new HeaderMatcher { Name = "x-canary", StringMatch = new StringMatcher { Prefix = "yes" }, InvertMatch = true });
        route.Match.QueryParameters.Add(new QueryParameterMatcher { Name = "id", StringMatch = new StringMatcher { SafeRegex = new RegexMatcher { Regex = "[0-9]+" } } });
        route.Match.QueryParameters.Add(new QueryParameterMatcher { Name = "debug", PresentMatch = true });
        route.RequestHeadersToAdd.Add(new HeaderValueOption { Header = new HeaderValue { Key = "x-added", Value = "1" } });
        route.RequestHeadersToAdd.Add(new HeaderValueOption { Header = new HeaderValue { Key = "x-set", Value = "2" }, AppendAction = HeaderValueOption.Types.HeaderAppendAction.OverwriteIfExistsOrAdd });
        route.RequestHeadersToAdd.Add(new HeaderValueOption { Header = new HeaderValue { Key = "x-default", Value = "3" }, AppendAction = HeaderValueOption.Types.HeaderAppendAction.AddIfAbsent });
        route.ResponseHeadersToRemove.Add("server");

        var translated = RouteConfigurationTranslator.Translate(Routes("rc", route, Prefix("/", "web")));
        var config = translated.VirtualHosts[0].Routes[0];
        Assert.Equal("api", config.Name);
        Assert.Equal("/api/", config.Match.PathPrefix);
        Assert.False(config.Match.CaseSensitive);
        Assert.True(config.Match.Grpc);
        Assert.Equal(
            [
                new HeaderMatchConfig { Name = "x-env", Kind = HeaderMatchKind.Exact, Value = "prod" },
                new HeaderMatchConfig { Name = "x-user", Kind = HeaderMatchKind.Regex, Value = "(?i).*\\.internal" },
                new HeaderMatchConfig { Name = "x-debug", Kind = HeaderMatchKind.Absent },
                new HeaderMatchConfig { Name = "x-canary", Kind = HeaderMatchKind.Prefix, Value = "yes", Invert = true },
            ],
            config.Match.Headers);
        Assert.Equal(
            [new QueryMatchConfig { Name = "id", Kind = QueryMatchKind.Regex, Value = "[0-9]+" }, new QueryMatchConfig { Name = "debug", Kind = QueryMatchKind.Present }],
            config.Match.Query);
        Assert.Equal([new WeightedClusterConfig { Cluster = "v1", Weight = 90 }, new WeightedClusterConfig { Cluster = "v2", Weight = 10 }], config.Split);
        Assert.Equal(TimeSpan.FromSeconds(3), config.Timeout);
        Assert.Equal("/v2/", config.PrefixRewrite);
        Assert.Equal("api.internal", config.HostRewrite);
        Assert.Equal(2, config.Retries!.Attempts);
        Assert.Equal(["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"], config.Retries.RetryOn);
        Assert.Equal([503], config.Retries.StatusCodes);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.Retries.PerTryTimeout);
        Assert.Equal("x-added", config.RequestHeaders!.Add[0].Name);
        Assert.Equal("x-set", config.RequestHeaders.Set[0].Name);
        Assert.Equal("x-default", config.RequestHeaders.SetIfAbsent[0].Name);
        Assert.Equal(["server"], config.ResponseHeaders!.Remove);
        Assert.Equal(["v1", "v2", "web"], translated.Clusters);

        // Envoy's route timeout: 15 s when unset, none when 0.
        Assert.Equal(TimeSpan.FromSeconds(15), translated.VirtualHosts[0].Routes[1].Timeout);
        var noTimeout = Prefix("/", "web");
        noTimeout.Route_.Timeout = new Duration();
        Assert.Null(RouteConfigurationTranslator.Translate(Routes("rc", noTimeout)).VirtualHosts[0].Routes[0].Timeout);
    }

    [Fact]
    public void Translate_MapsRedirectsDirectResponsesAndVirtualHostDefaults()
    {
        var redirect = new Route
        {
            Match = new RouteMatch { Path = "/old" },
            Redirect = new RedirectAction { HttpsRedirect = true, HostRedirect = "new.example", PathRedirect = "/home", StripQuery = true, ResponseCode = RedirectAction.Types.RedirectResponseCode.Found },
        };
        var direct = new Route
        {
            Match = new RouteMatch { SafeRegex = new RegexMatcher { Regex = "/healthz?" } },
            DirectResponse = new DirectResponseAction { Status = 200, Body = new DataSource { InlineString = "ok\n" } },
        };
        var config = Routes("rc", redirect, direct);
        config.VirtualHosts[0].Domains.Clear();
        config.VirtualHosts[0].Domains.Add(["api.example.com", "*.api.example.com:8443"]);
        config.VirtualHosts[0].RetryPolicy = new RetryPolicy { RetryOn = "5xx", NumRetries = 3 };
        config.VirtualHosts[0].RequestHeadersToAdd.Add(new HeaderValueOption { Header = new HeaderValue { Key = "x-vhost", Value = "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } });
        config.ResponseHeadersToAdd.Add(new HeaderValueOption { Header = new HeaderValue { Key = "x-proxy", Value = "yes" } });

        var translated = RouteConfigurationTranslator.Translate(config);
        var host = translated.VirtualHosts[0];
        Assert.Equal(["api.example.com", "*.api.example.com:8443"], host.Domains);
        Assert.Equal(3, host.Retries!.Attempts);
        Assert.Equal(["5xx"], host.Retries.RetryOn);
        Assert.Equal("x-vhost", host.RequestHeaders!.Add[0].Name);
        Assert.Equal("x-proxy", translated.ResponseHeaders!.Add[0].Name);
        Assert.Equal(new RedirectConfig { HttpsRedirect = true, Host = "new.example", Path = "/home", StripQuery = true, Status = 302 }, host.Routes[0].Redirect);
        Assert.Equal("/healthz?", host.Routes[1].Match.PathRegex);
        Assert.Equal(200, host.Routes[1].DirectResponse!.Status);
        Assert.Equal("ok\n", host.Routes[1].DirectResponse!.Body!.ToString());
    }

    [Fact]
    public void Translate_RejectsWhatItCannotHonour_NamingTheResourceAndField()
    {
        var retry4xx = Prefix("/", "web");
        retry4xx.Route_.RetryPolicy = new RetryPolicy { RetryOn = "5xx,retriable-4xx" };
        Assert.Equal("route_configuration 'rc': virtual_hosts[0] 'all': routes[0]: route.retry_policy.retry_on: 'retriable-4xx' is not supported; the proxy retries on connect-failure, reset, 5xx, gateway-error, retriable-status-codes, refused-stream, cancelled, deadline-exceeded, resource-exhausted, unavailable", Rejected(retry4xx));

        var header = Prefix("/", "web");
        header.Route_.ClusterHeader = "x-cluster";
        Assert.StartsWith("route_configuration 'rc': virtual_hosts[0] 'all': routes[0]: route.cluster_header: choosing the cluster per request is not supported", Rejected(header));

        var sampled = Prefix("/", "web");
        sampled.Match.RuntimeFraction = new RuntimeFractionalPercent { DefaultValue = new Envoy.Type.V3.FractionalPercent { Numerator = 50 } };
        Assert.StartsWith("route_configuration 'rc': virtual_hosts[0] 'all': routes[0]: match.runtime_fraction:", Rejected(sampled));

        var backreference = new Route { Match = new RouteMatch { SafeRegex = new RegexMatcher { Regex = "/(a)\\1" } }, Route_ = new RouteAction { Cluster = "web" } };
        Assert.StartsWith("route_configuration 'rc': virtual_hosts[0] 'all': routes[0]: match.safe_regex: '/(a)\\1' uses a construct the linear-time regex engine cannot run", Rejected(backreference));

        var host = Prefix("/", "web");
        host.RequestHeadersToAdd.Add(new HeaderValueOption { Header = new HeaderValue { Key = "Host", Value = "x" } });
        Assert.Equal("route_configuration 'rc': virtual_hosts[0] 'all': routes[0]: request_headers_to_add[0]: 'host' cannot be changed by a header rule; use the route's host_rewrite_literal or auto_host_rewrite", Rejected(host));

        var file = new Route { Match = new RouteMatch { Prefix = "/" }, DirectResponse = new DirectResponseAction { Status = 503, Body = new DataSource { Filename = "/etc/passwd" } } };
        Assert.StartsWith("route_configuration 'rc': virtual_hosts[0] 'all': routes[0]: direct_response.body: only inline_string and inline_bytes are supported", Rejected(file));

        var badDomain = Routes("rc", Prefix("/", "web"));
        badDomain.VirtualHosts[0].Domains[0] = "a*b.example.com";
        Assert.StartsWith("route_configuration 'rc': virtual_hosts[0].domains[0]:", Assert.Throws<XdsRejectedException>(() => RouteConfigurationTranslator.Translate(badDomain)).Message);

        var tls = Routes("rc", Prefix("/", "web"));
        tls.VirtualHosts[0].RequireTls = VirtualHost.Types.TlsRequirementType.All;
        Assert.StartsWith("route_configuration 'rc': virtual_hosts[0] 'all': require_tls:", Assert.Throws<XdsRejectedException>(() => RouteConfigurationTranslator.Translate(tls)).Message);
    }
}
