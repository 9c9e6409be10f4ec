using Proxy.Routing;

namespace Proxy.Tests.Routing;

public class HostRouteIndexTests
{
    private static string? Match(RouteTable table, string host, string path = "/")
    {
        var request = new TestRequest(host, path);
        return table.Match(ref request)?.Clusters[0];
    }

    private static RouteDefinition To(string cluster, string? host, string? prefix = null) =>
        new() { Match = new() { Host = host, PathPrefix = prefix }, Cluster = cluster };

    [Fact]
    public void Match_WildcardBeforeExact_WildcardStillWinsForThatHost()
    {
        RouteTable table = RouteTable.Build(
        [
            To("wild-api", "*.example.com", "/api"),
            To("exact", "a.example.com"),
            To("wild", "*.example.com"),
            To("any", null),
        ]);

        Assert.Equal("wild-api", Match(table, "a.example.com", "/api/x"));
        Assert.Equal("exact", Match(table, "A.Example.com", "/other"));
        Assert.Equal("wild", Match(table, "b.example.com", "/other"));
        Assert.Equal("any", Match(table, "example.org"));
    }

    [Fact]
    public void Match_AnyHostRouteFirst_ShadowsLaterExactHosts()
    {
        RouteTable table = RouteTable.Build([To("any-health", "*", "/healthz"), To("exact", "a.example.com")]);

        Assert.Equal("any-health", Match(table, "a.example.com", "/healthz"));
        Assert.Equal("exact", Match(table, "a.example.com", "/x"));
        Assert.Null(Match(table, "b.example.com", "/x"));
    }

    [Fact]
    public void Match_SameExactHostInSeveralRoutes_AllTriedInOrder()
    {
        RouteTable table = RouteTable.Build(
        [
            To("a-api", "a.example.com", "/api"),
            To("b", "b.example.com"),
            To("a-rest", "a.example.com"),
        ]);

        Assert.Equal("a-api", Match(table, "a.example.com", "/api"));
        Assert.Equal("a-rest", Match(table, "a.example.com", "/web"));
        Assert.Equal("b", Match(table, "b.example.com", "/api"));
    }

    [Fact]
    public void Match_ManyHosts_EachFindsItsOwnRouteAndUnknownFallsThrough()
    {
        var routes = new List<RouteDefinition>();
        for (int i = 0; i < 500; i++)
        {
            routes.Add(To($"c{i}", $"host{i}.example.com"));
        }

        routes.Add(To("fallback", null));
        RouteTable table = RouteTable.Build(routes);

        for (int i = 0; i < 500; i++)
        {
            Assert.Equal($"c{i}", Match(table, $"HOST{i}.example.com:8080"));
        }

        Assert.Equal("fallback", Match(table, "host500.example.com"));
        Assert.Equal("fallback", Match(table, ""));
    }

    [Theory]
    [InlineData("payments-{0}.prod.svc.cluster.local")] // shared prefix and suffix, same length
    [InlineData("{0}.x")] // shorter than one hash word
    [InlineData("abcdefg{0}")] // exactly 8 bytes for one-digit suffixes
    public void Match_HostsDifferingInOneByte_EachFindsItsOwnRoute(string format)
    {
        var routes = new List<RouteDefinition>();
        for (int i = 0; i < 10; i++)
        {
            routes.Add(To($"c{i}", string.Format(format, i)));
        }

        RouteTable table = RouteTable.Build(routes);

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal($"c{i}", Match(table, string.Format(format, i).ToUpperInvariant()));
        }

        Assert.Null(Match(table, string.Format(format, "z")));
    }

    [Fact]
    public void Match_OnlyExactHosts_UnknownHostIsNull()
    {
        RouteTable table = RouteTable.Build([To("a", "a.example.com"), To("b", "b.example.com")]);

        Assert.Null(Match(table, "c.example.com"));
        Assert.Null(Match(table, "a.example.com.evil"));
    }
}
