using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

public class HostPortTests
{
    [Theory]
    [InlineData("0.0.0.0:8080", "0.0.0.0", 8080)]
    [InlineData("api.local:80", "api.local", 80)]
    [InlineData("[::1]:80", "::1", 80)]
    [InlineData("[fd00::7]:65535", "fd00::7", 65535)]
    [InlineData("h:1", "h", 1)]
    public void TryParse_Valid_SplitsHostAndPort(string text, string host, int port)
    {
        Assert.True(HostPort.TryParse(text, out var value, out _));
        Assert.Equal(new HostPort(host, port), value);
        Assert.Equal(text, value.ToString());
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:")]
    [InlineData(":80")]
    [InlineData("h:65536")]
    [InlineData("h:-1")]
    [InlineData("h:+80")]
    [InlineData("::1:80")]
    [InlineData("[::1]")]
    [InlineData("[::1]80")]
    [InlineData("[1.2.3.4]:80")]
    [InlineData("a/b:80")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(HostPort.TryParse(text, out _, out string error));
        Assert.NotEmpty(error);
    }
}
