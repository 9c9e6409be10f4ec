using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Proxy.Filters;
using Proxy.Filters.Rbac;
using Proxy.Forwarding;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Runtime;

namespace Proxy.Tests.Filters.Rbac;

/// <summary>
/// The RBAC engine and the rbac HTTP filter over requests and connections, in the shapes Istio's authorization
/// policies compile to: ALLOW from a namespace's principals, DENY on paths and methods, not_rule, header rules,
/// addresses and ports; and a decision allocates nothing.
/// </summary>
public sealed class RbacEngineTests : IDisposable
{
    private static readonly RouteMetrics Metrics = new(new RequestMetricFamilies(new MetricsRegistry()), "web", "route-0", "backend");

    private readonly X509Certificate2 _frontend = Certificate("spiffe://cluster.local/ns/shop/sa/frontend");
    private readonly X509Certificate2 _intruder = Certificate("spiffe://cluster.local/ns/other/sa/intruder");

    public void Dispose()
    {
        _frontend.Dispose();
        _intruder.Dispose();
    }

    private static X509Certificate2 Certificate(string uri)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=workload", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        san.AddDnsName("workload.test");
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
    }

    private static RbacConnection Connection(X509Certificate2? peer = null, string remote = "10.0.0.7", int port = 8080) =>
        new(IPAddress.Parse(remote), new IPEndPoint(IPAddress.Parse("10.0.0.1"), port), null, peer);

    private static RbacStringMatcher S(RbacStringMatchKind kind, string value) => RbacStringMatcher.Create(kind, value);

    private static RbacEngine Engine(RbacAction action, RbacMatcher permission, RbacMatcher principal) =>
        new("envoy.filters.http.rbac", action, [new RbacPolicy("ns[shop]-policy[p]-rule[0]", permission, principal)]);

    private static (HttpRouting Routing, Counter Denied) Routing(params RbacEngine[] engines)
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Cluster = "backend" }]);
        var action = new RouteRuntime(table.Routes[0], [], null, [Metrics]) { Counters = new ResilienceCounters(new Counter(), new Counter(), new Counter(), new Counter()) };
        var denied = new Counter();
        var routing = new HttpRouting(table, [action], Http1Limits.Default, Metrics) { Rbac = engines, RbacDenied = denied };
        routing.Filters = HttpFilterRegistry.Build(["rbac"], routing);
        return (routing, denied);
    }

    private static FilterVerdict Run(HttpRouting routing, RbacConnection? connection, string path = "/", string method = "GET", params (string Name, string Value)[] headers)
    {
        var exchange = new TestExchange(routing, routing.Actions[0], path: path, method: method, headers: headers) { RbacConnection = connection };
        return routing.Filters.Filters.Single().OnRequest(exchange);
    }

    [Fact]
    public void Allow_PrincipalsOfANamespace_ByRegex_OthersAndPlainTextDenied403()
    {
        var (routing, denied) = Routing(Engine(RbacAction.Allow, RbacAnyMatcher.Instance,
            new RbacAuthenticatedMatcher(S(RbacStringMatchKind.Regex, ".*/ns/shop/.*"))));

        Assert.True(Run(routing, Connection(_frontend)).IsContinue);
        Assert.Equal(FilterVerdict.Answer(403, ResponseFlag.AccessDenied), Run(routing, Connection(_intruder)));
        Assert.Equal(FilterVerdict.Answer(403, ResponseFlag.AccessDenied), Run(routing, Connection()));
        Assert.Equal(FilterVerdict.Answer(403, ResponseFlag.AccessDenied), Run(routing, null)); // no facts: nothing matches, so ALLOW denies
        Assert.Equal(3, denied.Value);
    }

    [Fact]
    public void Allow_WithNoPolicy_DeniesEverything_Deny_WithNoPolicy_AllowsEverything()
    {
        Assert.False(Run(Routing(new RbacEngine("a", RbacAction.Allow, [])).Routing, Connection(_frontend)).IsContinue);
        Assert.True(Run(Routing(new RbacEngine("d", RbacAction.Deny, [])).Routing, Connection(_frontend)).IsContinue);
    }

    [Fact]
    public void Deny_OnPathPrefixAndMethod_ReadsTheNormalizedPath()
    {
        var adminWrites = new RbacAndMatcher([
            new RbacPathMatcher(S(RbacStringMatchKind.Prefix, "/admin")),
            new RbacHeaderMatcher(":method", S(RbacStringMatchKind.Exact, "POST"), present: true, invert: false, missingAsEmpty: false),
        ]);
        var (routing, _) = Routing(Engine(RbacAction.Deny, adminWrites, RbacAnyMatcher.Instance));

        Assert.False(Run(routing, Connection(), "/admin/users", "POST").IsContinue);
        Assert.False(Run(routing, Connection(), "/public/../admin/users?x=1", "POST").IsContinue); // normalized before matching
        Assert.False(Run(routing, Connection(), "//%61dmin", "POST").IsContinue);
        Assert.True(Run(routing, Connection(), "/admin/users", "GET").IsContinue);
        Assert.True(Run(routing, Connection(), "/shop", "POST").IsContinue);
        Assert.False(Run(routing, Connection(), "*", "OPTIONS").IsContinue); // a path it cannot judge: refused, never let through
    }

    [Fact]
    public void NotRule_Header_Invert_AndMissingHeaders()
    {
        // DENY anything but GET.
        var (onlyGet, _) = Routing(Engine(RbacAction.Deny,
            new RbacNotMatcher(new RbacHeaderMatcher(":method", S(RbacStringMatchKind.Exact, "GET"), true, false, false)), RbacAnyMatcher.Instance));
        Assert.True(Run(onlyGet, Connection(), method: "GET").IsContinue);
        Assert.False(Run(onlyGet, Connection(), method: "DELETE").IsContinue);

        // ALLOW requests carrying x-token: yes (a header principal), and a present / inverted header permission.
        var (token, _) = Routing(Engine(RbacAction.Allow, new RbacHeaderMatcher("x-debug", null, present: true, invert: true, missingAsEmpty: false),
            new RbacHeaderMatcher("x-token", S(RbacStringMatchKind.Exact, "yes"), true, false, false)));
        Assert.True(Run(token, Connection(), headers: ("x-token", "yes")).IsContinue);
        Assert.False(Run(token, Connection(), headers: ("x-token", "no")).IsContinue);
        Assert.False(Run(token, Connection()).IsContinue);
        Assert.False(Run(token, Connection(), headers: [("x-token", "yes"), ("x-debug", "1")]).IsContinue);

        // :authority reads the Host; treat_missing_header_as_empty matches the empty value.
        var (host, _) = Routing(Engine(RbacAction.Allow, new RbacOrMatcher([
            new RbacHeaderMatcher(":authority", S(RbacStringMatchKind.Suffix, ".test"), true, false, false),
            new RbacHeaderMatcher("x-missing", S(RbacStringMatchKind.Exact, ""), true, false, missingAsEmpty: true)]), RbacAnyMatcher.Instance));
        Assert.True(Run(host, Connection()).IsContinue);
    }

    [Fact]
    public void ConnectionRules_Cidr_Port_ServerName_AndDnsSanOrSubject()
    {
        var remote = new RbacCidrMatcher(RbacAddressSource.Remote, IPNetwork.Parse("10.0.0.0/24"));
        var port = new RbacPortMatcher(8080, 8081);
        var engine = Engine(RbacAction.Allow, port, remote);
        Assert.True(RbacConnectionFilter.Allows([engine], Connection()));
        Assert.True(RbacConnectionFilter.Allows([engine], Connection(remote: "::ffff:10.0.0.9"))); // IPv4-mapped reads as IPv4
        Assert.False(RbacConnectionFilter.Allows([engine], Connection(remote: "10.0.1.7")));
        Assert.False(RbacConnectionFilter.Allows([engine], Connection(port: 9090)));

        var destination = Engine(RbacAction.Deny, new RbacCidrMatcher(RbacAddressSource.Destination, IPNetwork.Parse("10.0.0.1/32")), RbacAnyMatcher.Instance);
        Assert.False(RbacConnectionFilter.Allows([destination], Connection()));

        var sni = Engine(RbacAction.Allow, new RbacServerNameMatcher(S(RbacStringMatchKind.Exact, "db.test")), RbacAnyMatcher.Instance);
        Assert.True(RbacConnectionFilter.Allows([sni], new RbacConnection(null, null, "db.test", null)));
        Assert.False(RbacConnectionFilter.Allows([sni], new RbacConnection(null, null, null, null)));

        // Envoy's order of names: URI SANs, DNS SANs, then the subject; no principal_name: any verified certificate.
        Assert.True(RbacConnectionFilter.Allows([Engine(RbacAction.Allow, RbacAnyMatcher.Instance, new RbacAuthenticatedMatcher(S(RbacStringMatchKind.Exact, "workload.test")))], Connection(_frontend)));
        Assert.True(RbacConnectionFilter.Allows([Engine(RbacAction.Allow, RbacAnyMatcher.Instance, new RbacAuthenticatedMatcher(S(RbacStringMatchKind.Exact, "CN=workload")))], Connection(_frontend)));
        Assert.True(RbacConnectionFilter.Allows([Engine(RbacAction.Allow, RbacAnyMatcher.Instance, new RbacAuthenticatedMatcher(null))], Connection(_frontend)));
        Assert.False(RbacConnectionFilter.Allows([Engine(RbacAction.Allow, RbacAnyMatcher.Instance, new RbacAuthenticatedMatcher(null))], Connection()));
    }

    [Fact]
    public void SeveralEngines_EachMustAllow_DenyFirstThenAllow()
    {
        var deny = Engine(RbacAction.Deny, new RbacPathMatcher(S(RbacStringMatchKind.Exact, "/secret")), RbacAnyMatcher.Instance);
        var allow = Engine(RbacAction.Allow, RbacAnyMatcher.Instance, new RbacAuthenticatedMatcher(S(RbacStringMatchKind.Prefix, "spiffe://cluster.local/ns/shop/")));
        var (routing, _) = Routing(deny, allow);
        Assert.True(Run(routing, Connection(_frontend), "/ok").IsContinue);
        Assert.False(Run(routing, Connection(_frontend), "/secret").IsContinue);
        Assert.False(Run(routing, Connection(_intruder), "/ok").IsContinue);
    }

    [Fact]
    public void Decision_AllocatesNothing()
    {
        var rules = new RbacAndMatcher([
            new RbacPathMatcher(S(RbacStringMatchKind.Regex, "/api/v[0-9]+/.*")),
            new RbacHeaderMatcher(":method", S(RbacStringMatchKind.Exact, "GET"), true, false, false),
            new RbacPortMatcher(8080, 8081),
        ]);
        var (routing, _) = Routing(Engine(RbacAction.Allow, rules, new RbacAuthenticatedMatcher(S(RbacStringMatchKind.Regex, ".*/ns/shop/.*"))));
        var exchange = new TestExchange(routing, routing.Actions[0], path: "/api/v1/items?page=2") { RbacConnection = Connection(_frontend) };
        var filter = routing.Filters.Filters.Single();
        for (var i = 0; i < 100; i++)
        {
            Assert.True(filter.OnRequest(exchange).IsContinue);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            filter.OnRequest(exchange);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
