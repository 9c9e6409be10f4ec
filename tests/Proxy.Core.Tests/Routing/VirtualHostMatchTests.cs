using Proxy.Routing;

namespace Proxy.Tests.Routing;

/// <summary>Choosing the virtual host by Host: Envoy's precedence, ports, case, and the 404 when no domain fits.</summary>
public class VirtualHostMatchTests
{
    // Each virtual host has one catch-all route whose cluster is the virtual host's name.
    private static RouteTable Table(params (string Name, string[] Domains)[] hosts)
    {
        var definitions = new VirtualHostDefinition[hosts.Length];
        for (int i = 0; i < hosts.Length; i++)
        {
            definitions[i] = new VirtualHostDefinition
            {
                Name = hosts[i].Name,
                Domains = hosts[i].Domains,
                Routes = [new RouteDefinition { Name = hosts[i].Name + "-route", Cluster = hosts[i].Name }],
            };
        }

        return RouteTable.BuildVirtualHosts(definitions);
    }

    private static string? Host(RouteTable table, string host, string path = "/")
    {
        var request = new TestRequest(host, path);
        return table.Match(ref request)?.Clusters[0];
    }

    private static readonly RouteTable Precedence = Table(
        ("exact", ["api.example.com"]),
        ("exact-port", ["api.example.com:8443"]),
        ("suffix-long", ["*.eu.example.com"]),
        ("suffix-short", ["*.example.com"]),
        ("suffix-port", ["*.example.com:9000"]),
        ("prefix-long", ["api.example.*"]),
        ("prefix-short", ["api.*"]),
        ("any", ["*"]));

    [Theory]
    [InlineData("api.example.com", "exact")]
    [InlineData("API.Example.COM", "exact")]
    [InlineData("api.example.com.", "exact")]
    [InlineData("api.example.com:80", "exact")]
    [InlineData("api.example.com:8443", "exact-port")]
    [InlineData("shop.eu.example.com", "suffix-long")]
    [InlineData("shop.eu.example.com:9000", "suffix-long")]
    [InlineData("shop.example.com", "suffix-short")]
    [InlineData("shop.example.com:9000", "suffix-port")]
    [InlineData("eu.example.com", "suffix-short")]
    [InlineData("example.com", "any")]
    [InlineData("api.example.org", "prefix-long")]
    [InlineData("api.example.org:9000", "prefix-long")]
    [InlineData("api.internal", "prefix-short")]
    [InlineData("Api.Internal:1234", "prefix-short")]
    [InlineData("other.test", "any")]
    [InlineData("", "any")]
    public void Match_Domains_ExactThenLongestSuffixThenLongestPrefixThenAny(string host, string expected)
    {
        Assert.Equal(expected, Host(Precedence, host));
    }

    [Theory]
    [InlineData("api.example.com", null)]
    [InlineData("api.example.com:8080", "port")]
    [InlineData("api.example.com:8081", null)]
    [InlineData("a.example.com:8080", "wild-port")]
    [InlineData("a.example.com", null)]
    [InlineData("[::1]:8080", "v6-port")]
    [InlineData("[::1]", "v6")]
    [InlineData("[::1]:9", "v6")]
    public void Match_DomainWithPort_MatchesOnlyThatPort(string host, string? expected)
    {
        RouteTable table = Table(
            ("port", ["api.example.com:8080"]),
            ("wild-port", ["*.example.com:8080"]),
            ("v6-port", ["[::1]:8080"]),
            ("v6", ["[::1]"]));

        Assert.Equal(expected, Host(table, host));
    }

    [Theory]
    [InlineData("a.example.com", "wild")]
    [InlineData(".example.com", null)]
    [InlineData("example.com", null)]
    [InlineData("foo-api.test", "dash")]
    [InlineData("-api.test", null)]
    [InlineData("web.x", "web")]
    [InlineData("web.", null)]
    public void Match_Wildcard_StandsForAtLeastOneCharacter(string host, string? expected)
    {
        RouteTable table = Table(("wild", ["*.example.com"]), ("dash", ["*-api.test"]), ("web", ["web.*"]));

        Assert.Equal(expected, Host(table, host));
    }

    [Fact]
    public void Match_NoDomainFits_NoRoute()
    {
        RouteTable table = Table(("a", ["a.example.com"]), ("b", ["*.b.example.com"]));

        Assert.Null(Host(table, "c.example.com"));
    }

    [Fact]
    public void Match_VirtualHostChosen_OnlyItsRoutesAreTried()
    {
        // The first virtual host has no route for /other; the request must not fall through to the '*' one.
        RouteTable table = RouteTable.BuildVirtualHosts(
        [
            new VirtualHostDefinition { Name = "api", Domains = ["api.test"], Routes = [new RouteDefinition { Match = new() { PathPrefix = "/v1" }, Cluster = "api" }] },
            new VirtualHostDefinition { Name = "rest", Domains = ["*"], Routes = [new RouteDefinition { Cluster = "rest" }] },
        ]);

        Assert.Equal("api", Host(table, "api.test", "/v1/x"));
        Assert.Null(Host(table, "api.test", "/other"));
        Assert.Equal("rest", Host(table, "web.test", "/other"));
    }

    [Fact]
    public void Match_RouteIndexesRunOnAcrossVirtualHosts()
    {
        RouteTable table = RouteTable.BuildVirtualHosts(
        [
            new VirtualHostDefinition { Domains = ["a.test"], Routes = [new RouteDefinition { Match = new() { PathPrefix = "/x" }, Cluster = "a0" }, new RouteDefinition { Cluster = "a1" }] },
            new VirtualHostDefinition { Domains = ["b.test"], Routes = [new RouteDefinition { Cluster = "b0" }] },
        ]);

        var request = new TestRequest("b.test", "/");
        Route route = table.Match(ref request)!;

        Assert.Equal(2, route.Index);
        Assert.Equal(1, route.VirtualHostIndex);
        Assert.Same(route, table.Routes[2]);
        Assert.Equal("virtual-host-1", table.VirtualHosts[1].Name);
        Assert.Equal(["a0", "a1", "b0"], [.. table.Routes.Select(r => r.Clusters[0])]);
    }

    [Fact]
    public void Match_HostConditionInsideVirtualHost_StillApplies()
    {
        RouteTable table = RouteTable.BuildVirtualHosts(
        [
            new VirtualHostDefinition
            {
                Domains = ["*.example.com"],
                Routes = [new RouteDefinition { Match = new() { Host = "admin.example.com" }, Cluster = "admin" }, new RouteDefinition { Cluster = "web" }],
            },
        ]);

        Assert.Equal("admin", Host(table, "admin.example.com"));
        Assert.Equal("web", Host(table, "www.example.com"));
    }

    [Fact]
    public void Match_PlainRoutes_AreOneVirtualHostForEveryHost()
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Cluster = "c" }]);

        Assert.Equal("*", Assert.Single(Assert.Single(table.VirtualHosts).Domains));
        Assert.Equal("c", Host(table, "anything:1234"));
        Assert.Equal("c", Host(table, ""));
    }

    [Fact]
    public void Match_ThousandVirtualHosts_AllocatesNothing()
    {
        var hosts = new (string, string[])[1000];
        for (int i = 0; i < hosts.Length; i++)
        {
            hosts[i] = ($"h{i}", [i % 3 == 0 ? $"*.s{i}.example.com" : i % 3 == 1 ? $"svc{i}.example.com" : $"p{i}.*"]);
        }

        RouteTable table = Table(hosts);
        var exact = new TestRequest("svc1.example.com:443", "/");
        var suffix = new TestRequest("a.s999.example.com", "/");
        var prefix = new TestRequest("p998.internal", "/");
        Assert.Equal("h1", table.Match(ref exact)!.Clusters[0]);
        Assert.Equal("h999", table.Match(ref suffix)!.Clusters[0]);
        Assert.Equal("h998", table.Match(ref prefix)!.Clusters[0]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            table.Match(ref exact);
            table.Match(ref suffix);
            table.Match(ref prefix);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
