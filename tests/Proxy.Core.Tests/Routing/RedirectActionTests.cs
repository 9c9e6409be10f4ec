using System.Text;
using Proxy.Routing;

namespace Proxy.Tests.Routing;

/// <summary>The Location of a redirect, as Envoy's RedirectAction builds it from the request.</summary>
public class RedirectActionTests
{
    private static string Location(RedirectAction redirect, string host, string target, bool tls = false)
    {
        var buffer = new byte[redirect.MaxLocationLength(host.Length, target.Length)];
        int length = redirect.WriteLocation(buffer, Encoding.ASCII.GetBytes(host), Encoding.ASCII.GetBytes(target), tls);
        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    [Theory]
    [InlineData("a.example", "/x?y=1", false, "http://a.example/x?y=1")]
    [InlineData("a.example:8080", "/x", false, "http://a.example:8080/x")]
    [InlineData("a.example:8443", "/x", true, "https://a.example:8443/x")]
    [InlineData("[::1]:8080", "/", false, "http://[::1]:8080/")]
    public void WriteLocation_NothingReplaced_RequestUrl(string host, string target, bool tls, string expected) =>
        Assert.Equal(expected, Location(new RedirectAction(301), host, target, tls));

    [Theory]
    [InlineData("a.example", "/x?q", "https://a.example/x?q")]
    [InlineData("a.example:80", "/x", "https://a.example/x")] // the old scheme's default port goes with it
    [InlineData("a.example:8080", "/x", "https://a.example:8080/x")] // any other port is kept, as Envoy does
    [InlineData("[::1]:80", "/x", "https://[::1]/x")]
    [InlineData("[::1]", "/x", "https://[::1]/x")]
    public void WriteLocation_HttpsRedirect_SchemeReplacedDefaultPortDropped(string host, string target, string expected) =>
        Assert.Equal(expected, Location(new RedirectAction(301, scheme: "https"), host, target));

    [Fact]
    public void WriteLocation_SchemeUnchanged_DefaultPortKept() =>
        Assert.Equal("https://a.example:443/x", Location(new RedirectAction(301, scheme: "https"), "a.example:443", "/x", tls: true));

    [Fact]
    public void WriteLocation_HttpRedirectFromTls_443Dropped() =>
        Assert.Equal("http://a.example/x", Location(new RedirectAction(301, scheme: "http"), "a.example:443", "/x", tls: true));

    [Theory]
    [InlineData("a.example", "http://b.example/x")]
    [InlineData("a.example:8080", "http://b.example/x")] // the configured host replaces host and port
    public void WriteLocation_Host_Replaced(string host, string expected) =>
        Assert.Equal(expected, Location(new RedirectAction(302, host: "b.example"), host, "/x"));

    [Theory]
    [InlineData("a.example", "http://a.example:8443/x")]
    [InlineData("a.example:8080", "http://a.example:8443/x")]
    [InlineData("[::1]:8080", "http://[::1]:8443/x")]
    public void WriteLocation_Port_ReplacesTheRequestPort(string host, string expected) =>
        Assert.Equal(expected, Location(new RedirectAction(301, port: 8443), host, "/x"));

    [Fact]
    public void WriteLocation_HostAndPortAndScheme_AllReplaced() =>
        Assert.Equal("https://b.example:9443/x?y", Location(new RedirectAction(308, scheme: "https", host: "b.example", port: 9443), "a.example:8080", "/x?y"));

    [Fact]
    public void WriteLocation_Ipv6HostAndPort_Bracketed() =>
        Assert.Equal("https://[2001:db8::1]:9443/x", Location(new RedirectAction(308, scheme: "https", host: "[2001:db8::1]", port: 9443), "a.example:8080", "/x"));

    [Theory]
    [InlineData("/old/page?a=1", false, "http://a.example/new?a=1")]
    [InlineData("/old/page?a=1", true, "http://a.example/new")]
    [InlineData("/old/page", false, "http://a.example/new")]
    public void WriteLocation_Path_ReplacesPathKeepsOrStripsQuery(string target, bool strip, string expected) =>
        Assert.Equal(expected, Location(new RedirectAction(301, path: "/new", stripQuery: strip), "a.example", target));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteLocation_PathWithQuery_ReplacesTheQueryWhateverStripQuery(bool strip) =>
        Assert.Equal("http://a.example/new?b=2", Location(new RedirectAction(301, path: "/new?b=2", stripQuery: strip), "a.example", "/old?a=1"));

    [Theory]
    [InlineData("/v1/users?id=7", false, "http://a.example/api/v1/users?id=7")]
    [InlineData("/v1/users?id=7", true, "http://a.example/api/v1/users")]
    [InlineData("/v1/", false, "http://a.example/api/v1/")]
    public void WriteLocation_PrefixRewrite_ReplacesTheMatchedPrefix(string target, bool strip, string expected) =>
        Assert.Equal(expected, Location(new RedirectAction(301, prefixRewrite: "/api/v1/", matchedPrefix: "/v1/", stripQuery: strip), "a.example", target));

    [Fact]
    public void WriteLocation_PrefixRewriteOfRoot_Prepended() =>
        Assert.Equal("http://a.example/v2/foo", Location(new RedirectAction(301, prefixRewrite: "/v2/", matchedPrefix: "/"), "a.example", "/foo"));

    [Theory]
    [InlineData("/a?x=1&y=2", "http://a.example/a")]
    [InlineData("/a?", "http://a.example/a")]
    [InlineData("/a", "http://a.example/a")]
    public void WriteLocation_StripQuery_QueryDropped(string target, string expected) =>
        Assert.Equal(expected, Location(new RedirectAction(301, stripQuery: true), "a.example", target));

    [Fact]
    public void WriteLocation_TargetWithoutSlash_GetsOne() =>
        Assert.Equal("https://a.example/*", Location(new RedirectAction(301, scheme: "https"), "a.example", "*"));

    [Fact]
    public void WriteLocation_LongTarget_FitsTheAdvertisedLength()
    {
        string target = "/" + new string('a', 5000) + "?" + new string('b', 3000);
        var redirect = new RedirectAction(301, scheme: "https", host: "a-much-longer-host.example", port: 65535, prefixRewrite: "/some/longer/prefix/", matchedPrefix: "/");
        string location = Location(redirect, "h:1", target);
        Assert.StartsWith("https://a-much-longer-host.example:65535/some/longer/prefix/aaa", location);
        Assert.EndsWith("bbb", location);
    }
}
