using System.Text;
using Proxy.Configuration;
using Proxy.Rewrites;

namespace Proxy.Tests.Headers;

/// <summary>Path and host rewrites as a route compiles them, applied to a request's path and target.</summary>
public class RequestRewriteTests
{
    private static string Rewrite(RouteConfig route, string target)
    {
        var path = target.Split('?')[0];
        var upstream = new UpstreamTarget();
        upstream.Apply(RequestRewrite.Compile(route)!, Encoding.ASCII.GetBytes(path), Encoding.ASCII.GetBytes(target));
        return Encoding.ASCII.GetString(upstream.TargetOr("unchanged"u8));
    }

    private static RouteConfig Route(string? prefix = null, string? exact = null, string? prefixRewrite = null, (string, string)? regex = null) => new()
    {
        Cluster = "c",
        Match = new RouteMatchConfig { PathPrefix = prefix, PathExact = exact },
        PrefixRewrite = prefixRewrite,
        RegexRewrite = regex is { } r ? new RegexRewriteConfig { Pattern = r.Item1, Substitution = r.Item2 } : null,
    };

    [Theory]
    [InlineData("/v1", "/api/v1", "/v1/users?page=2", "/api/v1/users?page=2")]
    [InlineData("/v1/", "/", "/v1/users", "/users")]
    [InlineData("/v1", "/api/v1", "/v1", "/api/v1")]
    [InlineData("/old/", "", "/old/x", "/x")] // an empty replacement still sends an origin-form target
    public void PrefixRewrite_ReplacesTheMatchedPrefix_KeepsTheQuery(string prefix, string replacement, string target, string expected)
    {
        Assert.Equal(expected, Rewrite(Route(prefix: prefix, prefixRewrite: replacement), target));
    }

    [Fact]
    public void PrefixRewrite_ExactMatch_ReplacesTheWholePath()
    {
        Assert.Equal("/healthz?full=1", Rewrite(Route(exact: "/status", prefixRewrite: "/healthz"), "/status?full=1"));
    }

    [Fact]
    public void PrefixRewrite_NoPathMatch_ReplacesTheLeadingSlash()
    {
        // A route without a path match takes every path, as Envoy's implicit prefix "/".
        Assert.Equal("/app/x/y", Rewrite(Route(prefixRewrite: "/app/"), "/x/y"));
    }

    [Theory]
    [InlineData("^/r/([a-z]+)/([a-z]+)$", "/\\2/\\1", "/r/alpha/beta?q=1", "/beta/alpha?q=1")]
    [InlineData("/+", "/", "//a///b", "/a/b")] // every match, no groups: the allocation-free path
    [InlineData("o", "0", "/foo/boo", "/f00/b00")]
    [InlineData("^/api", "$x\\\\", "/api/1", "/$x\\/1")] // a literal $ and an escaped backslash
    [InlineData("nomatch", "x", "/a?b=c", "/a?b=c")]
    public void RegexRewrite_SubstitutesEveryMatch(string pattern, string substitution, string target, string expected)
    {
        Assert.Equal(expected, Rewrite(Route(regex: (pattern, substitution)), target));
    }

    [Fact]
    public void RegexRewrite_PathlessResult_GetsALeadingSlash()
    {
        Assert.Equal("/x", Rewrite(Route(regex: ("^/", "")), "/x"));
    }

    [Fact]
    public void UpstreamTarget_HostRewrites()
    {
        var endpoint = new Proxy.Upstream.Endpoint("10.0.0.5:9000", new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.0.0.5"), 9000));
        var literal = new UpstreamTarget();
        literal.Apply(RequestRewrite.Compile(new RouteConfig { Cluster = "c", HostRewrite = "api.internal" })!, "/"u8, "/"u8);
        var auto = new UpstreamTarget();
        auto.Apply(RequestRewrite.Compile(new RouteConfig { Cluster = "c", AutoHostRewrite = true })!, "/"u8, "/"u8);

        Assert.Equal("api.internal", Encoding.ASCII.GetString(literal.HostOr("client"u8, endpoint)));
        Assert.Equal("10.0.0.5:9000", Encoding.ASCII.GetString(auto.HostOr("client"u8, endpoint)));
        Assert.Equal("client", Encoding.ASCII.GetString(auto.HostOr("client"u8, null))); // a mirror's copy: no endpoint
        Assert.Equal("/", Encoding.ASCII.GetString(auto.TargetOr("/"u8)));
        Assert.True(auto.IsRewritten);

        auto.Clear();
        Assert.False(auto.IsRewritten);
        Assert.Equal("client", Encoding.ASCII.GetString(auto.HostOr("client"u8, endpoint)));
    }

    [Fact]
    public void Compile_NothingToRewrite_IsNull()
    {
        Assert.Null(RequestRewrite.Compile(new RouteConfig { Cluster = "c" }));
    }
}
