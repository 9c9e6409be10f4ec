using Proxy.Routing;

namespace Proxy.Tests.Routing;

public class RouteTableTests
{
    private static RouteTable Table(params RouteDefinition[] routes) => RouteTable.Build(routes);

    private static RouteDefinition To(string cluster, RouteMatchDefinition match) => new() { Match = match, Cluster = cluster };

    private static string? Match(RouteTable table, string host, string path, string method = "GET", params (string, string)[] headers)
    {
        var request = new TestRequest(host, path, method, headers);
        return table.Match(ref request)?.Clusters[0];
    }

    [Theory]
    [InlineData("api.example.com", "api")]
    [InlineData("API.Example.COM", "api")]
    [InlineData("api.example.com:8443", "api")]
    [InlineData("api.example.com.", "api")]
    [InlineData("api.example.com.:80", "api")]
    [InlineData("web.example.com", null)]
    [InlineData("api.example.co", null)]
    [InlineData("xapi.example.com", null)]
    [InlineData("", null)]
    public void Match_ExactHost_CaseInsensitivePortIgnored(string host, string? expected)
    {
        RouteTable table = Table(To("api", new() { Host = "api.example.com" }));

        Assert.Equal(expected, Match(table, host, "/"));
    }

    [Theory]
    [InlineData("a.example.com", "wild")]
    [InlineData("A.B.Example.Com:80", "wild")]
    [InlineData("example.com", null)]
    [InlineData(".example.com", null)]
    [InlineData("badexample.com", null)]
    [InlineData("example.com.evil", null)]
    public void Match_WildcardHost_NeedsALabelBeforeTheSuffix(string host, string? expected)
    {
        RouteTable table = Table(To("wild", new() { Host = "*.Example.com" }));

        Assert.Equal(expected, Match(table, host, "/"));
    }

    [Theory]
    [InlineData("[::1]:8080", "v6")]
    [InlineData("[::1]", "v6")]
    [InlineData("[::2]", null)]
    public void Match_Ipv6Host_PortAfterBracketStripped(string host, string? expected)
    {
        RouteTable table = Table(To("v6", new() { Host = "[::1]" }));

        Assert.Equal(expected, Match(table, host, "/"));
    }

    [Theory]
    [InlineData("/api", "prefix")]
    [InlineData("/api/", "prefix")]
    [InlineData("/api/users/1", "prefix")]
    [InlineData("/apix", null)]
    [InlineData("/ap", null)]
    [InlineData("/API", null)]
    [InlineData("/", null)]
    public void Match_PathPrefixWithoutSlash_IsSegmentAware(string path, string? expected)
    {
        RouteTable table = Table(To("prefix", new() { PathPrefix = "/api" }));

        Assert.Equal(expected, Match(table, "h", path));
    }

    [Theory]
    [InlineData("/api/", "prefix")]
    [InlineData("/api/x", "prefix")]
    [InlineData("/api", null)]
    [InlineData("/apix", null)]
    public void Match_PathPrefixEndingInSlash_IsPlainPrefix(string path, string? expected)
    {
        RouteTable table = Table(To("prefix", new() { PathPrefix = "/api/" }));

        Assert.Equal(expected, Match(table, "h", path));
    }

    [Theory]
    [InlineData("/healthz", "exact")]
    [InlineData("/healthz/", null)]
    [InlineData("/healthzx", null)]
    [InlineData("/Healthz", null)]
    [InlineData("/health", null)]
    public void Match_PathExact_WholePathCaseSensitive(string path, string? expected)
    {
        RouteTable table = Table(To("exact", new() { PathExact = "/healthz" }));

        Assert.Equal(expected, Match(table, "h", path));
    }

    [Fact]
    public void Match_RootPrefix_MatchesEveryPath()
    {
        RouteTable table = Table(To("root", new() { PathPrefix = "/" }));

        Assert.Equal("root", Match(table, "h", "/"));
        Assert.Equal("root", Match(table, "h", "/anything/at/all"));
    }

    [Fact]
    public void Match_NonAsciiPath_ComparedAsUtf8Bytes()
    {
        RouteTable table = Table(To("utf8", new() { PathPrefix = "/café" }));

        Assert.Equal("utf8", Match(table, "h", "/café/menu"));
        Assert.Null(Match(table, "h", "/cafe/menu"));
    }

    [Theory]
    [InlineData("1", "canary")]
    [InlineData("2", null)]
    [InlineData("", null)]
    [InlineData("11", null)]
    public void Match_HeaderExact_ComparesWholeValue(string value, string? expected)
    {
        RouteTable table = Table(To("canary", new() { Headers = [HeaderMatchDefinition.Exact("X-Canary", "1")] }));

        Assert.Equal(expected, Match(table, "h", "/", "GET", ("x-canary", value)));
    }

    [Fact]
    public void Match_HeaderExact_ValueIsCaseSensitiveNameIsNot()
    {
        RouteTable table = Table(To("t", new() { Headers = [HeaderMatchDefinition.Exact("x-env", "Prod")] }));

        Assert.Equal("t", Match(table, "h", "/", "GET", ("X-ENV", "Prod")));
        Assert.Null(Match(table, "h", "/", "GET", ("x-env", "prod")));
    }

    [Fact]
    public void Match_HeaderPresent_AnyValueIncludingEmpty()
    {
        RouteTable table = Table(To("debug", new() { Headers = [HeaderMatchDefinition.Present("x-debug")] }));

        Assert.Equal("debug", Match(table, "h", "/", "GET", ("x-debug", "yes")));
        Assert.Equal("debug", Match(table, "h", "/", "GET", ("x-debug", "")));
        Assert.Null(Match(table, "h", "/", "GET", ("x-other", "yes")));
        Assert.Null(Match(table, "h", "/"));
    }

    [Theory]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", "mobile")]
    [InlineData("Mozilla/5.0 (Android 14)", "mobile")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64)", null)]
    public void Match_HeaderRegex_MatchesWholeValue(string userAgent, string? expected)
    {
        RouteTable table = Table(To("mobile", new() { Headers = [HeaderMatchDefinition.Regex("user-agent", ".*(iPhone|Android).*")] }));

        Assert.Equal(expected, Match(table, "h", "/", "GET", ("User-Agent", userAgent)));
    }

    [Fact]
    public void Match_HeaderRegex_IsAnchoredNotASubstringSearch()
    {
        RouteTable table = Table(To("v", new() { Headers = [HeaderMatchDefinition.Regex("x-version", "v[0-9]+|beta")] }));

        Assert.Equal("v", Match(table, "h", "/", "GET", ("x-version", "v12")));
        Assert.Equal("v", Match(table, "h", "/", "GET", ("x-version", "beta")));
        Assert.Null(Match(table, "h", "/", "GET", ("x-version", "v12-rc")));
        Assert.Null(Match(table, "h", "/", "GET", ("x-version", "not-beta")));
        Assert.Null(Match(table, "h", "/"));
    }

    [Fact]
    public void Match_HeaderRegexLongValue_UsesPooledBufferSameResult()
    {
        RouteTable table = Table(To("long", new() { Headers = [HeaderMatchDefinition.Regex("x-token", "a+b")] }));
        string value = new string('a', HeaderMatcher.StackDecodeLimit * 3) + "b";

        Assert.Equal("long", Match(table, "h", "/", "GET", ("x-token", value)));
        Assert.Null(Match(table, "h", "/", "GET", ("x-token", value + "c")));
    }

    [Fact]
    public void Match_HeaderRegexNonAsciiValue_DecodedAsUtf8()
    {
        RouteTable table = Table(To("fr", new() { Headers = [HeaderMatchDefinition.Regex("x-city", "Montr.al")] }));

        Assert.Equal("fr", Match(table, "h", "/", "GET", ("x-city", "Montréal")));
    }

    [Fact]
    public void Match_SeveralHeaders_AllMustHold()
    {
        RouteTable table = Table(To("both", new()
        {
            Headers = [HeaderMatchDefinition.Exact("x-a", "1"), HeaderMatchDefinition.Present("x-b")],
        }));

        Assert.Equal("both", Match(table, "h", "/", "GET", ("x-a", "1"), ("x-b", "")));
        Assert.Null(Match(table, "h", "/", "GET", ("x-a", "1")));
        Assert.Null(Match(table, "h", "/", "GET", ("x-b", "1")));
    }

    [Theory]
    [InlineData("GET", "read")]
    [InlineData("HEAD", "read")]
    [InlineData("POST", null)]
    [InlineData("get", null)]
    [InlineData("GETX", null)]
    public void Match_MethodList_AnyListedMethodCaseSensitive(string method, string? expected)
    {
        RouteTable table = Table(To("read", new() { Methods = ["GET", "HEAD"] }));

        Assert.Equal(expected, Match(table, "h", "/", method));
    }

    [Fact]
    public void Match_OverlappingRoutes_FirstInDefinitionOrderWins()
    {
        RouteTable table = Table(
            To("canary", new() { PathPrefix = "/api/", Headers = [HeaderMatchDefinition.Exact("x-canary", "1")] }),
            To("api", new() { PathPrefix = "/api/" }),
            To("exact-after-prefix", new() { PathExact = "/api/special" }),
            To("fallback", new() { PathPrefix = "/" }));

        Assert.Equal("canary", Match(table, "h", "/api/x", "GET", ("x-canary", "1")));
        Assert.Equal("api", Match(table, "h", "/api/x"));
        Assert.Equal("api", Match(table, "h", "/api/special"));
        Assert.Equal("fallback", Match(table, "h", "/other"));
    }

    [Fact]
    public void Match_ReturnsRouteWithDefinitionIndexAndName()
    {
        RouteTable table = Table(
            new RouteDefinition { Name = "first", Match = new() { PathExact = "/a" }, Cluster = "c" },
            new RouteDefinition { Match = new() { PathExact = "/b" }, Cluster = "c" });

        var request = new TestRequest("h", "/b");
        Route? route = table.Match(ref request);

        Assert.NotNull(route);
        Assert.Equal(1, route.Index);
        Assert.Equal("route-1", route.Name);
        Assert.Equal("first", table.Routes[0].Name);
    }

    [Fact]
    public void Match_NoRouteMatches_ReturnsNull()
    {
        RouteTable table = Table(
            To("a", new() { Host = "a.example.com", PathPrefix = "/a" }),
            To("b", new() { Host = "b.example.com", Methods = ["POST"] }));

        Assert.Null(Match(table, "a.example.com", "/b"));
        Assert.Null(Match(table, "c.example.com", "/a"));
        Assert.Null(Match(table, "b.example.com", "/", "GET"));
    }

    [Fact]
    public void Match_EmptyTable_ReturnsNull()
    {
        Assert.Null(Match(RouteTable.Empty, "h", "/"));
        Assert.Null(Match(RouteTable.Build([]), "h", "/"));
    }

    [Fact]
    public void Match_AllConditionsCombined_EachOneCanReject()
    {
        RouteTable table = Table(To("all", new()
        {
            Host = "*.svc.local",
            PathPrefix = "/v1",
            Methods = ["PUT"],
            Headers = [HeaderMatchDefinition.Exact("x-tenant", "acme")],
        }));

        Assert.Equal("all", Match(table, "orders.svc.local:80", "/v1/orders", "PUT", ("x-tenant", "acme")));
        Assert.Null(Match(table, "svc.local", "/v1/orders", "PUT", ("x-tenant", "acme")));
        Assert.Null(Match(table, "orders.svc.local", "/v2/orders", "PUT", ("x-tenant", "acme")));
        Assert.Null(Match(table, "orders.svc.local", "/v1/orders", "GET", ("x-tenant", "acme")));
        Assert.Null(Match(table, "orders.svc.local", "/v1/orders", "PUT", ("x-tenant", "other")));
    }

    [Fact]
    public void Match_CheapConditionFails_HeadersNotLookedUp()
    {
        RouteTable table = Table(To("x", new() { PathExact = "/a", Headers = [HeaderMatchDefinition.Present("x-a")] }));
        var request = new TestRequest("h", "/b", "GET", ("x-a", "1"));

        Assert.Null(table.Match(ref request));
        Assert.Equal(0, request.HeaderLookups);
    }

    [Fact]
    public void Match_SteadyState_AllocatesNothing()
    {
        RouteTable table = Table(
            To("a", new() { Host = "a.example.com", PathPrefix = "/a" }),
            To("regex", new() { Host = "*.example.com", PathPrefix = "/api", Headers = [HeaderMatchDefinition.Regex("x-v", "v[0-9]+")] }),
            To("b", new() { Host = "*.example.com", PathPrefix = "/api", Methods = ["GET", "POST"], Headers = [HeaderMatchDefinition.Exact("x-canary", "1"), HeaderMatchDefinition.Present("x-user")] }));
        var request = new TestRequest("B.example.com:443", "/api/orders", "POST", ("x-user", "u"), ("x-canary", "1"), ("x-v", "beta"));
        Assert.Equal("b", table.Match(ref request)?.Clusters[0]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            _ = table.Match(ref request);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
