using Proxy.Routing;

namespace Proxy.Tests.Routing;

/// <summary>The matchers beyond host, path prefix and exact headers: query, path regex, case, gRPC, absent and invert.</summary>
public class RouteMatcherTests
{
    private static bool Matches(RouteMatchDefinition match, string path, params (string, string)[] headers) =>
        Matches(match, path, "GET", headers);

    private static bool Matches(RouteMatchDefinition match, string path, string method, params (string, string)[] headers)
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Match = match, Cluster = "c" }]);
        var request = new TestRequest("h", path, method, headers);
        return table.Match(ref request) is not null;
    }

    private static RouteMatchDefinition Query(string name, QueryMatchKind kind, string? value = null) =>
        new() { Query = [new QueryMatchDefinition(name, kind, value)] };

    [Theory]
    [InlineData("/?version=2", true)]
    [InlineData("/?a=1&version=2&b", true)]
    [InlineData("/?version=22", false)]
    [InlineData("/?version=", false)]
    [InlineData("/?Version=2", false)]
    [InlineData("/?xversion=2", false)]
    [InlineData("/", false)]
    [InlineData("/?version=%32", true)]
    [InlineData("/?%76ersion=2", true)]
    [InlineData("/?version=1&version=2", false)]
    public void Query_Exact_DecodedFirstOccurrenceDecides(string target, bool expected)
    {
        Assert.Equal(expected, Matches(Query("version", QueryMatchKind.Exact, "2"), target));
    }

    [Theory]
    [InlineData("/?next=%2Fhome%2Fuser", "/home/user", true)]
    [InlineData("/?next=a+b", "a+b", true)]
    [InlineData("/?next=a+b", "a b", false)]
    [InlineData("/?next=100%", "100%", true)]
    [InlineData("/?next=%zz", "%zz", true)]
    [InlineData("/?next=%e2%82%ac", "€", true)]
    public void Query_Exact_PercentDecodingAsEnvoy(string target, string value, bool expected)
    {
        Assert.Equal(expected, Matches(Query("next", QueryMatchKind.Exact, value), target));
    }

    [Theory]
    [InlineData("/?debug", true)]
    [InlineData("/?debug=", true)]
    [InlineData("/?debug=0", true)]
    [InlineData("/?a=debug", false)]
    [InlineData("/", false)]
    public void Query_Present_AnyValue(string target, bool expected)
    {
        Assert.Equal(expected, Matches(Query("debug", QueryMatchKind.Present), target));
    }

    [Theory]
    [InlineData("/?user=beta-42", true)]
    [InlineData("/?user=beta", true)]
    [InlineData("/?user=alpha", false)]
    [InlineData("/?user=%62eta", true)]
    public void Query_Prefix(string target, bool expected)
    {
        Assert.Equal(expected, Matches(Query("user", QueryMatchKind.Prefix, "beta"), target));
    }

    [Theory]
    [InlineData("/?id=123", true)]
    [InlineData("/?id=123a", false)]
    [InlineData("/?id=%31%32", true)]
    public void Query_Regex_WholeDecodedValue(string target, bool expected)
    {
        Assert.Equal(expected, Matches(Query("id", QueryMatchKind.Regex, "[0-9]+"), target));
    }

    [Fact]
    public void Query_LongValue_DecodedWithoutStackOverflow()
    {
        string value = new('x', QueryParameterMatcher.StackDecodeLimit * 4);

        Assert.True(Matches(Query("q", QueryMatchKind.Regex, "x+"), "/?q=" + value));
        Assert.True(Matches(Query("q", QueryMatchKind.Exact, value), "/?" + "p=" + value + "&q=" + value));
    }

    [Theory]
    [InlineData("/users/42", true)]
    [InlineData("/users/42/", false)]
    [InlineData("/users/abc", false)]
    [InlineData("/x/users/42", false)]
    public void PathRegex_MatchesTheWholePath(string path, bool expected)
    {
        Assert.Equal(expected, Matches(new RouteMatchDefinition { PathRegex = "/users/[0-9]+" }, path));
    }

    [Fact]
    public void PathRegex_IgnoresTheQuery()
    {
        Assert.True(Matches(new RouteMatchDefinition { PathRegex = "/a" }, "/a?b=c"));
    }

    [Fact]
    public void PathRegex_CatastrophicPatternOnHostileInput_AnswersCorrectly()
    {
        // "(a+)+$" backtracks exponentially on a's followed by a mismatch; the non-backtracking engine is linear.
        var match = new RouteMatchDefinition { PathRegex = "/(a+)+$" };
        string hostile = "/" + new string('a', 10_000) + "!";

        Assert.False(Matches(match, hostile));
        Assert.True(Matches(match, "/" + new string('a', 10_000)));
    }

    [Theory]
    [InlineData("/API/users", true)]
    [InlineData("/Api", true)]
    [InlineData("/apix", false)]
    [InlineData("/other", false)]
    public void CaseInsensitive_PathPrefix(string path, bool expected)
    {
        Assert.Equal(expected, Matches(new RouteMatchDefinition { PathPrefix = "/api", CaseSensitive = false }, path));
    }

    [Theory]
    [InlineData("/HealthZ", true)]
    [InlineData("/healthz", true)]
    [InlineData("/healthz/", false)]
    public void CaseInsensitive_PathExact(string path, bool expected)
    {
        Assert.Equal(expected, Matches(new RouteMatchDefinition { PathExact = "/healthz", CaseSensitive = false }, path));
        Assert.Equal(path == "/healthz", Matches(new RouteMatchDefinition { PathExact = "/healthz" }, path));
    }

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc;charset=utf-8", true)]
    [InlineData("Application/GRPC", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Grpc_ContentTypeIsApplicationGrpc(string? contentType, bool expected)
    {
        (string, string)[] headers = contentType is null ? [] : [("content-type", contentType)];

        Assert.Equal(expected, Matches(new RouteMatchDefinition { Grpc = true }, "/pkg.Service/Method", "POST", headers));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("1", false)]
    [InlineData("", false)]
    public void Header_Absent(string? value, bool expected)
    {
        (string, string)[] headers = value is null ? [] : [("x-debug", value)];

        Assert.Equal(expected, Matches(new RouteMatchDefinition { Headers = [HeaderMatchDefinition.Absent("x-debug")] }, "/", headers));
    }

    [Theory]
    [InlineData("Bearer abc", true)]
    [InlineData("bearer abc", false)]
    [InlineData(null, false)]
    public void Header_Prefix(string? value, bool expected)
    {
        (string, string)[] headers = value is null ? [] : [("authorization", value)];

        Assert.Equal(expected, Matches(new RouteMatchDefinition { Headers = [HeaderMatchDefinition.Prefix("authorization", "Bearer ")] }, "/", headers));
    }

    [Theory]
    [InlineData(HeaderMatchKind.Exact, "1", "1", false)]
    [InlineData(HeaderMatchKind.Exact, "1", "2", true)]
    [InlineData(HeaderMatchKind.Exact, "1", null, true)]
    [InlineData(HeaderMatchKind.Prefix, "v1", "v1.2", false)]
    [InlineData(HeaderMatchKind.Prefix, "v1", "v2", true)]
    [InlineData(HeaderMatchKind.Regex, "[0-9]{3}", "123", false)]
    [InlineData(HeaderMatchKind.Regex, "[0-9]{3}", "1234", true)]
    [InlineData(HeaderMatchKind.Present, null, "x", false)]
    [InlineData(HeaderMatchKind.Present, null, null, true)]
    [InlineData(HeaderMatchKind.Absent, null, null, false)]
    [InlineData(HeaderMatchKind.Absent, null, "x", true)]
    public void Header_Invert_NegatesTheOutcomeMissingHeaderIncluded(HeaderMatchKind kind, string? configured, string? sent, bool expected)
    {
        var match = new RouteMatchDefinition { Headers = [new HeaderMatchDefinition("x-v", kind, configured) { Invert = true }] };
        (string, string)[] headers = sent is null ? [] : [("x-v", sent)];

        Assert.Equal(expected, Matches(match, "/", headers));
    }

    [Fact]
    public void NewMatchers_OnTheHotPath_AllocateNothing()
    {
        RouteTable table = RouteTable.Build(
        [
            new RouteDefinition { Match = new() { PathRegex = "/items/[0-9]+", Query = [new QueryMatchDefinition("v", QueryMatchKind.Regex, "[0-9]+"), new QueryMatchDefinition("n", QueryMatchKind.Exact, "a/b")] }, Cluster = "regex" },
            new RouteDefinition { Match = new() { Grpc = true, PathPrefix = "/PKG.SVC/", CaseSensitive = false, Headers = [HeaderMatchDefinition.Absent("x-debug"), new HeaderMatchDefinition("x-env", HeaderMatchKind.Exact, "prod") { Invert = true }] }, Cluster = "grpc" },
        ]);
        var regex = new TestRequest("h", "/items/42?v=7&n=a%2Fb");
        var grpc = new TestRequest("h", "/pkg.Svc/Call", "POST", ("content-type", "application/grpc"));
        Assert.Equal("regex", table.Match(ref regex)!.Clusters[0]);
        Assert.Equal("grpc", table.Match(ref grpc)!.Clusters[0]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            table.Match(ref regex);
            table.Match(ref grpc);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
