using Proxy.Routing;

namespace Proxy.Tests.Routing;

/// <summary>What the router itself rejects in virtual hosts and the new match kinds (validate reports them first, with lines).</summary>
public class VirtualHostBuildTests
{
    private static IReadOnlyList<RouteDefinitionError> Errors(params VirtualHostDefinition[] hosts)
    {
        Assert.False(RouteTable.TryBuildVirtualHosts(hosts, out RouteTable? table, out IReadOnlyList<RouteDefinitionError> errors));
        Assert.Null(table);
        return errors;
    }

    private static readonly RouteDefinition[] OneRoute = [new RouteDefinition { Cluster = "c" }];

    [Fact]
    public void Build_DomainInTwoVirtualHosts_Rejected()
    {
        var errors = Errors(
            new VirtualHostDefinition { Domains = ["a.test", "*.b.test"], Routes = OneRoute },
            new VirtualHostDefinition { Domains = ["A.TEST."], Routes = [new RouteDefinition { Name = "second", Cluster = "c" }] });

        RouteDefinitionError error = Assert.Single(errors);
        Assert.Equal("virtual_hosts[1].domains[0]: 'a.test' is already a domain of virtual_hosts[0]; a domain may belong to one virtual host only", error.ToString());
    }

    [Fact]
    public void Build_EmptyDomains_And_BadWildcard_Rejected()
    {
        var errors = Errors(
            new VirtualHostDefinition { Domains = [], Routes = OneRoute },
            new VirtualHostDefinition { Domains = ["a*b.test"], Routes = [new RouteDefinition { Name = "r2", Cluster = "c" }] });

        Assert.Equal(2, errors.Count);
        Assert.Equal("virtual_hosts[0].domains", errors[0].Field);
        Assert.Contains("'*' for every host", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal("virtual_hosts[1].domains[0]", errors[1].Field);
    }

    [Fact]
    public void Build_RouteNamesShareTheListener()
    {
        var errors = Errors(
            new VirtualHostDefinition { Domains = ["a.test"], Routes = [new RouteDefinition { Name = "x", Cluster = "c" }] },
            new VirtualHostDefinition { Domains = ["b.test"], Routes = [new RouteDefinition { Name = "x", Cluster = "c" }] });

        Assert.Equal("routes[1].name: 'x' is used by an earlier route", Assert.Single(errors).ToString());
    }

    [Theory]
    [InlineData("/a", null, "/b")]
    [InlineData(null, "/a", "/b")]
    [InlineData("/a", "/b", "/c")]
    public void Build_TwoPathKinds_Rejected(string? exact, string? prefix, string regex)
    {
        var errors = Errors(new VirtualHostDefinition { Domains = ["*"], Routes = [new RouteDefinition { Match = new() { PathExact = exact, PathPrefix = prefix, PathRegex = regex }, Cluster = "c" }] });

        Assert.Contains("set one of path_exact, path_prefix and path_regex", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/(a", "does not compile")]
    [InlineData("/(?=a)", "linear-time match")]
    [InlineData("", "needs a pattern")]
    public void Build_BadPathRegex_Rejected(string pattern, string expected)
    {
        var errors = Errors(new VirtualHostDefinition { Domains = ["*"], Routes = [new RouteDefinition { Match = new() { PathRegex = pattern }, Cluster = "c" }] });

        RouteDefinitionError error = Assert.Single(errors);
        Assert.Equal("match.path_regex", error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_CaseInsensitiveRegex_Rejected()
    {
        var errors = Errors(new VirtualHostDefinition { Domains = ["*"], Routes = [new RouteDefinition { Match = new() { PathRegex = "/a", CaseSensitive = false }, Cluster = "c" }] });

        Assert.Contains("'(?i)'", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_QueryMatcherProblems_Rejected()
    {
        var errors = Errors(new VirtualHostDefinition
        {
            Domains = ["*"],
            Routes =
            [
                new RouteDefinition
                {
                    Match = new()
                    {
                        Query =
                        [
                            new QueryMatchDefinition("", QueryMatchKind.Exact, "1"),
                            new QueryMatchDefinition("a", QueryMatchKind.Exact),
                            new QueryMatchDefinition("b", QueryMatchKind.Present, "x"),
                            new QueryMatchDefinition("c", QueryMatchKind.Regex, "(x"),
                        ],
                    },
                    Cluster = "c",
                },
            ],
        });

        Assert.Equal(["match.query[0].name", "match.query[1].value", "match.query[2].value", "match.query[3].regex"], errors.Select(e => e.Field));
    }
}
