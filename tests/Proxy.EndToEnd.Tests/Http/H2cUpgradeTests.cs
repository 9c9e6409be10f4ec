using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>
/// "h2c smuggling": an HTTP/1.1 request offering Upgrade: h2c must not reach an upstream that accepts it, or the
/// connection turns into HTTP/2 streams that no route, limit or authorization rule sees. RFC 9113 3.1 deprecates
/// the h2c upgrade; the proxy forwards such a request as a plain HTTP/1.1 request.
/// </summary>
public class H2cUpgradeTests
{
    [Fact]
    public async Task H2cUpgradeOffer_ForwardedWithoutUpgrade_UpstreamCannotSwitch()
    {
        // An upstream that switches to h2c whenever it is offered, as a vulnerable backend would.
        await using var upstream = ScriptedHttp1Upstream.Start(exchange => exchange.Header("upgrade") is not null
            ? exchange.SendAsync("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
            : exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"));
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /private HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK", await socket.ReadLineAsync());
        Assert.True(upstream.Received.TryDequeue(out var received));
        Assert.Null(received.Header("upgrade"));
        Assert.Null(received.Header("http2-settings"));
        Assert.DoesNotContain("upgrade", received.Header("connection") ?? "", StringComparison.OrdinalIgnoreCase);
    }
}
