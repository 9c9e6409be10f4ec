using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>HTTP/1.0 clients, which may send no Host: the request goes upstream as HTTP/1.1, which must carry one.</summary>
public sealed class Http10Tests
{
    [Fact]
    public async Task Http10_WithoutHost_ForwardedWithTheEndpointsAuthorityAsHost()
    {
        await using var upstream = ScriptedHttp1Upstream.Start(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(proxy.Listener("web"));
        await client.SendAsync("GET /old HTTP/1.0\r\n\r\n");
        var answer = await client.ReadToEndAsync(); // HTTP/1.0 without keep-alive: the proxy closes after the answer

        Assert.StartsWith("HTTP/1.1 200", answer);
        Assert.True(upstream.Received.TryDequeue(out var exchange));
        Assert.Equal(upstream.Address, exchange.Header("host")); // before: no Host at all, which an HTTP/1.1 server answers with 400
    }
}
