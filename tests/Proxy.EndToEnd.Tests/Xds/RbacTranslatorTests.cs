using System.Net;
using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Envoy.Config.Rbac.V3;
using Envoy.Config.Route.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Envoy.Type.Matcher.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.Filters.Rbac;
using Proxy.Xds.Translation;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;
using static Proxy.EndToEnd.Tests.Xds.XdsRbacResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The HTTP rbac, fault and local_ratelimit filters and the network rbac filter, from the shapes istiod sends to the
/// listener configuration the proxy runs; and the NACK sentences for what it cannot judge.
/// </summary>
public class RbacTranslatorTests
{
    private static Listener WithFilters(params HttpFilter[] filters)
    {
        var manager = new HttpConnectionManager { Rds = new Rds { RouteConfigName = "r", ConfigSource = new ConfigSource { Ads = new AggregatedConfigSource() } } };
        manager.HttpFilters.Add(filters);
        return Listener("inbound", 8080, Hcm(manager));
    }

    private static string Rejected(Listener listener) => Assert.Throws<XdsRejectedException>(() => ListenerTranslator.Translate(listener)).Message;

    private static RbacConnection Peer(string spiffeId, int port = 8080) => new(IPAddress.Loopback, new IPEndPoint(IPAddress.Loopback, port), null, Certificate(spiffeId));

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate(string uri)
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=w", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public void HttpRbac_IstioAllowFromNamespace_AndDenyOnPathsAndMethods_InTheirOrder_BeforeTheProxysFilters()
    {
        var deny = Rules(RBAC.Types.Action.Deny, ("ns[shop]-policy[no-admin]-rule[0]", Grant(PathsAndMethods("/admin", "POST"), AnyPrincipal)));
        var allow = Rules(RBAC.Types.Action.Allow, ("ns[shop]-policy[from-shop]-rule[0]", Grant(AnyPermission, Namespace("shop"))));
        var config = ListenerTranslator.Translate(WithFilters(
            new HttpFilter { Name = "istio.metadata_exchange", TypedConfig = new Any { TypeUrl = "type.googleapis.com/udpa.type.v1.TypedStruct" } },
            HttpRbacFilter(deny), HttpRbacFilter(allow))).Config;

        Assert.Equal(["rbac", "rate_limit", "fault", "mirror", "circuit_breaker"], config.HttpFilters);
        Assert.Equal([RbacAction.Deny, RbacAction.Allow], config.HttpRbac.Select(static e => e.Action));
        Assert.True(config.HttpRbac[0].ReadsPath);

        var shop = Peer("spiffe://cluster.local/ns/shop/sa/frontend");
        var other = Peer("spiffe://cluster.local/ns/other/sa/x");
        Assert.True(config.HttpRbac[1].Allows(new RbacRequest(shop, null, default)));
        Assert.False(config.HttpRbac[1].Allows(new RbacRequest(other, null, default)));
    }

    [Fact]
    public void HttpRbac_NotRule_Header_Ports_AndPrincipalPrefix()
    {
        var permission = new Permission
        {
            AndRules = new Permission.Types.Set
            {
                Rules =
                {
                    new Permission { NotRule = new Permission { Header = new HeaderMatcher { Name = ":method", StringMatch = new StringMatcher { Exact = "GET" } } } },
                    new Permission { DestinationPort = 8080 },
                    new Permission { Header = new HeaderMatcher { Name = "x-tenant", PresentMatch = true } },
                },
            },
        };
        var principal = new Principal { OrIds = new Principal.Types.Set { Ids = { Exact("spiffe://cluster.local/ns/a/sa/b"), new Principal { Authenticated = new Principal.Types.Authenticated { PrincipalName = new StringMatcher { Prefix = "spiffe://cluster.local/ns/ops/" } } }, new Principal { RemoteIp = new CidrRange { AddressPrefix = "10.1.2.3", PrefixLen = 16 } } } } };
        var config = ListenerTranslator.Translate(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Deny, ("p", Grant(permission, principal)))))).Config;
        var engine = Assert.Single(config.HttpRbac);
        Assert.False(engine.ReadsPath);
        Assert.True(engine.ReadsRequest);
        var policy = Assert.Single(engine.Policies);
        Assert.IsType<RbacAndMatcher>(policy.Permission);
        Assert.IsType<RbacOrMatcher>(policy.Principal);

        // Connection-only principals are judged without a request: the prefix and the CIDR (host bits masked).
        var ops = Peer("spiffe://cluster.local/ns/ops/sa/admin");
        Assert.True(policy.Principal.Matches(new RbacRequest(ops, null, default)));
        Assert.True(policy.Principal.Matches(new RbacRequest(new RbacConnection(IPAddress.Parse("10.1.200.1"), null, null, null), null, default)));
        Assert.False(policy.Principal.Matches(new RbacRequest(new RbacConnection(IPAddress.Parse("10.2.0.1"), null, null, null), null, default)));
    }

    [Fact]
    public void Rbac_LogAndEmptyRules_LetEverythingThrough_AsEnvoy()
    {
        var log = ListenerTranslator.Translate(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Log, ("p", Grant(AnyPermission, AnyPrincipal)))))).Config;
        Assert.Empty(log.HttpRbac);
        Assert.Null(log.HttpFilters);

        var empty = ListenerTranslator.Translate(WithFilters(new HttpFilter { Name = "envoy.filters.http.rbac", TypedConfig = Any.Pack(new Envoy.Extensions.Filters.Http.Rbac.V3.RBAC()) })).Config;
        Assert.Empty(empty.HttpRbac);
    }

    [Fact]
    public void Rbac_WhatItCannotJudge_IsANackNamingTheField()
    {
        const string At = "listener 'inbound': filter_chains[0]: http_connection_manager: http_filters[0] 'envoy.filters.http.rbac'.rules";
        var jwt = new Principal { Metadata = new MetadataMatcher { Filter = "istio_authn" } };
        Assert.Equal($"{At}.policies['p'].principals[0].metadata: this principal is not supported (request authentication metadata and filter state are not kept); the policy cannot be judged, so it is refused",
            Rejected(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Allow, ("p", Grant(AnyPermission, jwt)))))));

        var cel = Grant(AnyPermission, AnyPrincipal);
        cel.Condition = new Google.Api.Expr.V1Alpha1.Expr();
        Assert.StartsWith($"{At}.policies['p'].condition: CEL conditions are not supported", Rejected(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Deny, ("p", cel))))));

        var metadataPermission = new Permission { OrRules = new Permission.Types.Set { Rules = { new Permission { Metadata = new MetadataMatcher { Filter = "x" } } } } };
        Assert.StartsWith($"{At}.policies['p'].permissions[0].or_rules.rules[0].metadata: this permission is not supported",
            Rejected(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Deny, ("p", Grant(metadataPermission, AnyPrincipal)))))));

        var range = new Permission { Header = new HeaderMatcher { Name = "x-n", RangeMatch = new Envoy.Type.V3.Int64Range { Start = 1, End = 2 } } };
        Assert.StartsWith($"{At}.policies['p'].permissions[0].header.range_match: range matches on header values are not supported",
            Rejected(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Deny, ("p", Grant(range, AnyPrincipal)))))));

        var scheme = new Permission { Header = new HeaderMatcher { Name = ":scheme", StringMatch = new StringMatcher { Exact = "https" } } };
        Assert.StartsWith($"{At}.policies['p'].permissions[0].header.name: the pseudo-header ':scheme' is not supported",
            Rejected(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Deny, ("p", Grant(scheme, AnyPrincipal)))))));

        var badRegex = new Principal { Authenticated = new Principal.Types.Authenticated { PrincipalName = new StringMatcher { SafeRegex = new RegexMatcher { Regex = "(a)\\1" } } } };
        Assert.Contains("principal_name.safe_regex", Rejected(WithFilters(HttpRbacFilter(Rules(RBAC.Types.Action.Allow, ("p", Grant(AnyPermission, badRegex)))))));

        var matcherTree = new Envoy.Extensions.Filters.Http.Rbac.V3.RBAC { Matcher = new global::Xds.Type.Matcher.V3.Matcher() };
        Assert.StartsWith("listener 'inbound': filter_chains[0]: http_connection_manager: http_filters[0] 'envoy.filters.http.rbac'.matcher: RBAC as a matcher tree is not supported",
            Rejected(WithFilters(new HttpFilter { Name = "envoy.filters.http.rbac", TypedConfig = Any.Pack(matcherTree) })));

        // Two RBAC filters with another filter between them: refused rather than reordered.
        Assert.Contains("put the RBAC filters next to each other", Rejected(WithFilters(
            HttpRbacFilter(Rules(RBAC.Types.Action.Deny)), FaultAbort(503, 10), HttpRbacFilter(Rules(RBAC.Types.Action.Allow)))));
    }

    [Fact]
    public void NetworkRbac_OnATcpProxyChain_ConnectionRulesOnly()
    {
        var listener = TcpListener("tcp", 5432, "db");
        listener.FilterChains[0].Filters.Insert(0, NetworkRbacFilter(Rules(RBAC.Types.Action.Allow, ("p", Grant(new Permission { DestinationPort = 5432 }, Namespace("shop"))))));
        var config = ListenerTranslator.Translate(listener).Config;
        var engine = Assert.Single(config.NetworkRbac);
        Assert.True(RbacConnectionFilter.Allows(config.NetworkRbac, Peer("spiffe://cluster.local/ns/shop/sa/a", 5432)));
        Assert.False(RbacConnectionFilter.Allows(config.NetworkRbac, Peer("spiffe://cluster.local/ns/shop/sa/a", 5433)));
        Assert.False(engine.ReadsRequest);

        var header = TcpListener("tcp", 5432, "db");
        header.FilterChains[0].Filters.Insert(0, NetworkRbacFilter(Rules(RBAC.Types.Action.Deny, ("p", Grant(PathsAndMethods("/", "GET"), AnyPrincipal)))));
        Assert.StartsWith("listener 'tcp': filter_chains[0].filters[0] 'envoy.filters.network.rbac'.rules.policies['p'].permissions[0].and_rules.rules[0].or_rules.rules[0].url_path: a network rbac filter sees no HTTP request",
            Rejected(header));

        var sni = TcpListener("tcp", 5432, "db");
        sni.FilterChains[0].Filters.Insert(0, NetworkRbacFilter(Rules(RBAC.Types.Action.Deny, ("p", Grant(new Permission { RequestedServerName = new StringMatcher { Exact = "db" } }, AnyPrincipal)))));
        Assert.Contains("requested_server_name: the proxy reads the server name only on a chain that terminates TLS", Rejected(sni));
    }

    [Fact]
    public void Fault_AndLocalRateLimit_MapOntoTheListener_AtTheirPositions()
    {
        var config = ListenerTranslator.Translate(WithFilters(LocalRateLimit(20, 10, TimeSpan.FromSeconds(1)), FaultAbort(503, 25))).Config;
        Assert.Equal(["rate_limit", "fault", "mirror", "circuit_breaker"], config.HttpFilters);
        Assert.Equal(10, config.RateLimit!.RequestsPerSecond);
        Assert.Equal(20, config.RateLimit.Burst);
        Assert.Equal(503, config.Fault!.Abort!.Status);
        Assert.Equal(25, config.Fault.Abort.Percent);

        var delay = new Envoy.Extensions.Filters.Http.Fault.V3.HTTPFault
        {
            Delay = new Envoy.Extensions.Filters.Common.Fault.V3.FaultDelay { FixedDelay = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(300)), Percentage = new Envoy.Type.V3.FractionalPercent { Numerator = 5000, Denominator = Envoy.Type.V3.FractionalPercent.Types.DenominatorType.TenThousand } },
            Headers = { new HeaderMatcher { Name = "x-chaos", PresentMatch = true } },
        };
        var delayed = ListenerTranslator.Translate(WithFilters(new HttpFilter { Name = "envoy.filters.http.fault", TypedConfig = Any.Pack(delay) })).Config;
        Assert.Equal(TimeSpan.FromMilliseconds(300), delayed.Fault!.Delay!.Duration);
        Assert.Equal(50, delayed.Fault.Delay.Percent);
        Assert.Equal("x-chaos", Assert.Single(delayed.Fault.Headers).Name);

        // Off or only counting (0 %): no limit, nothing to run.
        Assert.Null(ListenerTranslator.Translate(WithFilters(LocalRateLimit(20, 10, TimeSpan.FromSeconds(1), enabled: 0))).Config.RateLimit);
        Assert.Null(ListenerTranslator.Translate(WithFilters(LocalRateLimit(20, 10, TimeSpan.FromSeconds(1), enforced: 0))).Config.HttpFilters);
    }

    [Fact]
    public void Fault_AndLocalRateLimit_WhatDiffers_IsANackNamingTheField()
    {
        const string At = "listener 'inbound': filter_chains[0]: http_connection_manager: http_filters[0]";
        Assert.StartsWith($"{At} 'envoy.filters.http.local_ratelimit'.filter_enforced: 50% of requests",
            Rejected(WithFilters(LocalRateLimit(20, 10, TimeSpan.FromSeconds(1), enforced: 50))));
        Assert.StartsWith($"{At} 'envoy.filters.http.local_ratelimit'.token_bucket: 4 tokens every 60s is 0.067 a second",
            Rejected(WithFilters(LocalRateLimit(4, 4, TimeSpan.FromMinutes(1)))));

        var header = new Envoy.Extensions.Filters.Http.Fault.V3.HTTPFault { Abort = new Envoy.Extensions.Filters.Http.Fault.V3.FaultAbort { HeaderAbort = new() } };
        Assert.StartsWith($"{At} 'envoy.filters.http.fault'.abort.header_abort: aborts chosen by the client's",
            Rejected(WithFilters(new HttpFilter { Name = "envoy.filters.http.fault", TypedConfig = Any.Pack(header) })));

        var grpc = new Envoy.Extensions.Filters.Http.Fault.V3.HTTPFault { Abort = new Envoy.Extensions.Filters.Http.Fault.V3.FaultAbort { GrpcStatus = 14 } };
        Assert.StartsWith($"{At} 'envoy.filters.http.fault'.abort.grpc_status: gRPC aborts are not supported",
            Rejected(WithFilters(new HttpFilter { Name = "envoy.filters.http.fault", TypedConfig = Any.Pack(grpc) })));

        var capped = new Envoy.Extensions.Filters.Http.Fault.V3.HTTPFault { MaxActiveFaults = 3 };
        Assert.StartsWith($"{At} 'envoy.filters.http.fault'.max_active_faults:",
            Rejected(WithFilters(new HttpFilter { Name = "envoy.filters.http.fault", TypedConfig = Any.Pack(capped) })));
    }
}
