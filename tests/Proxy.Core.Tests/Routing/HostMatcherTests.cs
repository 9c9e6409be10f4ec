using System.Text;
using Proxy.Routing;

namespace Proxy.Tests.Routing;

public class HostMatcherTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("example.com:8080", "example.com")]
    [InlineData("example.com:", "example.com")]
    [InlineData("example.com.", "example.com")]
    [InlineData("example.com.:443", "example.com")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("[::1]:8080", "[::1]")]
    [InlineData("[::1", "[::1")]
    [InlineData("10.0.0.1:80", "10.0.0.1")]
    [InlineData(":80", "")]
    [InlineData("", "")]
    public void Normalize_Authority_PortAndTrailingDotRemoved(string authority, string expected)
    {
        ReadOnlySpan<byte> host = HostMatcher.Normalize(Encoding.ASCII.GetBytes(authority));

        Assert.Equal(expected, Encoding.ASCII.GetString(host));
    }

    [Fact]
    public void Matches_NonAsciiRequestHost_NoMatch()
    {
        HostMatcher matcher = HostMatcher.Exact("example.com");

        Assert.False(matcher.Matches(Encoding.UTF8.GetBytes("exämple.com")));
        Assert.True(matcher.Matches("EXAMPLE.com"u8));
    }
}
