using Proxy.Routing;

namespace Proxy.Tests.Routing;

public class RouteTableBuildTests
{
    private static IReadOnlyList<RouteDefinitionError> Errors(params RouteDefinition[] routes)
    {
        Assert.False(RouteTable.TryBuild(routes, out RouteTable? table, out IReadOnlyList<RouteDefinitionError> errors));
        Assert.Null(table);
        Assert.NotEmpty(errors);
        return errors;
    }

    private static RouteDefinitionError OneError(RouteMatchDefinition match)
    {
        IReadOnlyList<RouteDefinitionError> errors = Errors(new RouteDefinition { Match = match, Cluster = "c" });
        return Assert.Single(errors);
    }

    [Fact]
    public void Build_RegexDoesNotCompile_ThrowsWithLocatedError()
    {
        RouteDefinition[] routes =
        [
            new() { Cluster = "ok" },
            new() { Match = new() { Headers = [HeaderMatchDefinition.Present("x-a"), HeaderMatchDefinition.Regex("x-b", "v(1|2")] }, Cluster = "c" },
        ];

        var exception = Assert.Throws<RouteTableBuildException>(() => RouteTable.Build(routes));

        RouteDefinitionError error = Assert.Single(exception.Errors);
        Assert.Equal(1, error.RouteIndex);
        Assert.Equal("match.headers[1].regex", error.Field);
        Assert.Contains("does not compile", error.Message);
        Assert.StartsWith("routes[1].match.headers[1].regex: 'v(1|2' does not compile", error.ToString());
        Assert.Contains(error.ToString(), exception.Message);
    }

    [Theory]
    [InlineData(@"(a)\1")] // backreference
    [InlineData("(?=a)a")] // lookahead
    public void Build_RegexNeedsBacktracking_Rejected(string pattern)
    {
        RouteDefinitionError error = OneError(new() { Headers = [HeaderMatchDefinition.Regex("x-a", pattern)] });

        Assert.Equal("match.headers[0].regex", error.Field);
        Assert.Contains("linear-time", error.Message);
    }

    [Theory]
    [InlineData("a)(b")] // would otherwise escape the anchoring group
    [InlineData("(?x)a#comment")] // a comment would otherwise swallow the closing anchor
    [InlineData("")]
    public void Build_RegexThatCannotBeAnchored_Rejected(string pattern)
    {
        RouteDefinitionError error = OneError(new() { Headers = [HeaderMatchDefinition.Regex("x-a", pattern)] });

        Assert.Equal("match.headers[0].regex", error.Field);
    }

    [Fact]
    public void TryBuild_ManyProblems_EveryErrorListedInOrder()
    {
        IReadOnlyList<RouteDefinitionError> errors = Errors(
            new RouteDefinition { Match = new() { PathPrefix = "api" } },
            new RouteDefinition { Cluster = "ok" },
            new RouteDefinition
            {
                Match = new() { Host = "example.com:80", Methods = ["GET", "BAD METHOD"] },
                Split = [new("a", -1), new("", 1)],
            });

        Assert.Equal(
            [
                "routes[0].match.path_prefix",
                "routes[0].cluster",
                "routes[2].match.host",
                "routes[2].match.method[1]",
                "routes[2].split[0].weight",
                "routes[2].split[1].cluster",
            ],
            errors.Select(e => $"routes[{e.RouteIndex}].{e.Field}"));
    }

    [Theory]
    [InlineData("example.com:8080", "port")]
    [InlineData("ex ample.com", "not allowed")]
    [InlineData("bücher.example", "xn--")]
    [InlineData("a..b", "empty labels")]
    [InlineData("", "empty")]
    [InlineData("*example.com", "'*'")]
    [InlineData("api.*.com", "'*'")]
    [InlineData("*.", "wildcard")]
    [InlineData("*.com:80", "wildcard")]
    [InlineData("[::1]:80", "IPv6")]
    [InlineData("[zz]", "IPv6")]
    public void Build_InvalidHost_Rejected(string host, string expectedFragment)
    {
        RouteDefinitionError error = OneError(new() { Host = host });

        Assert.Equal("match.host", error.Field);
        Assert.Contains(expectedFragment, error.Message);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("example.com.")]
    [InlineData("*.example.com.")]
    [InlineData("[2001:db8::1]")]
    [InlineData("10.0.0.1")]
    [InlineData("my_service.local")]
    public void Build_ValidHost_Accepted(string host)
    {
        Assert.True(RouteTable.TryBuild([new RouteDefinition { Match = new() { Host = host }, Cluster = "c" }], out _, out _));
    }

    [Theory]
    [InlineData("api", "must start with '/'")]
    [InlineData("/api?x=1", "query string")]
    [InlineData("/a#b", "query string")]
    [InlineData("/a b", "spaces")]
    [InlineData("", "must start with '/'")]
    public void Build_InvalidPathPrefix_Rejected(string path, string expectedFragment)
    {
        RouteDefinitionError error = OneError(new() { PathPrefix = path });

        Assert.Equal("match.path_prefix", error.Field);
        Assert.Contains(expectedFragment, error.Message);
    }

    [Fact]
    public void Build_InvalidPathExact_Rejected()
    {
        Assert.Equal("match.path_exact", OneError(new() { PathExact = "x" }).Field);
    }

    [Fact]
    public void Build_PathExactAndPrefix_Rejected()
    {
        RouteDefinitionError error = OneError(new() { PathExact = "/a", PathPrefix = "/a" });

        Assert.Contains("not both", error.Message);
    }

    [Theory]
    [InlineData("x a", HeaderMatchKind.Present, null, "match.headers[0].name")]
    [InlineData(":authority", HeaderMatchKind.Present, null, "match.headers[0].name")]
    [InlineData("", HeaderMatchKind.Present, null, "match.headers[0].name")]
    [InlineData("x-a", HeaderMatchKind.Exact, null, "match.headers[0].value")]
    [InlineData("x-a", HeaderMatchKind.Exact, "a\r\nb", "match.headers[0].value")]
    [InlineData("x-a", HeaderMatchKind.Exact, " padded", "match.headers[0].value")]
    [InlineData("x-a", HeaderMatchKind.Present, "1", "match.headers[0].value")]
    [InlineData("x-a", (HeaderMatchKind)42, "1", "match.headers[0]")]
    public void Build_InvalidHeaderMatch_Rejected(string name, HeaderMatchKind kind, string? value, string field)
    {
        RouteDefinitionError error = OneError(new() { Headers = [new HeaderMatchDefinition(name, kind, value)] });

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Build_ClusterAndSplit_Rejected()
    {
        RouteDefinitionError error = Assert.Single(Errors(new RouteDefinition { Cluster = "a", Split = [new("b", 1)] }));

        Assert.Contains("not both", error.Message);
    }

    [Fact]
    public void Build_NeitherClusterNorSplit_Rejected()
    {
        RouteDefinitionError error = Assert.Single(Errors(new RouteDefinition()));

        Assert.Equal("cluster", error.Field);
    }

    [Fact]
    public void Build_EmptyCluster_Rejected()
    {
        Assert.Equal("cluster", Assert.Single(Errors(new RouteDefinition { Cluster = " " })).Field);
    }

    [Fact]
    public void Build_SplitProblems_Rejected()
    {
        Assert.Equal("split", Assert.Single(Errors(new RouteDefinition { Split = [] })).Field);
        Assert.Equal("split", Assert.Single(Errors(new RouteDefinition { Split = [new("a", 0), new("b", 0)] })).Field);
        Assert.Equal("split", Assert.Single(Errors(new RouteDefinition { Split = [new("a", int.MaxValue), new("b", 1)] })).Field);
        Assert.Equal("split[1].cluster", Assert.Single(Errors(new RouteDefinition { Split = [new("a", 1), new("a", 1)] })).Field);
    }

    [Fact]
    public void Build_DuplicateOrEmptyName_Rejected()
    {
        IReadOnlyList<RouteDefinitionError> errors = Errors(
            new RouteDefinition { Name = "web", Cluster = "c" },
            new RouteDefinition { Name = "web", Cluster = "c" },
            new RouteDefinition { Name = "", Cluster = "c" });

        Assert.Equal([(1, "name"), (2, "name")], errors.Select(e => (e.RouteIndex, e.Field)));
    }

    [Fact]
    public void Build_NullEntries_Rejected()
    {
        IReadOnlyList<RouteDefinitionError> errors = Errors(
            null!,
            new RouteDefinition { Match = new() { Headers = [null!] }, Split = [null!, new("a", 1)] });

        Assert.Equal([(0, "route"), (1, "match.headers[0]"), (1, "split[0]")], errors.Select(e => (e.RouteIndex, e.Field)));
    }

    [Fact]
    public void Build_NullList_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => RouteTable.Build(null!));
    }

    [Fact]
    public void Build_Valid_RoutesKeepDefinitionOrder()
    {
        RouteTable table = RouteTable.Build(
        [
            new RouteDefinition { Name = "a", Cluster = "x" },
            new RouteDefinition { Name = "b", Split = [new("x", 1), new("y", 3)] },
        ]);

        Assert.Equal(2, table.Routes.Count);
        Assert.Equal(0, table.Routes[0].Index);
        Assert.Equal(1, table.Routes[1].Index);
        Assert.Equal(["x", "y"], table.Routes[1].Clusters);
        Assert.Equal([1, 3], table.Routes[1].Weights);
    }
}
