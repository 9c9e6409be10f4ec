using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>
/// The listener's <c>idle_timeout</c> on HTTP/1.1 client connections: a connection with a request in progress is not
/// idle while the proxy waits for the upstream's response head, of either kind of upstream, or while a body moves.
/// </summary>
public class Http1IdleTimeoutTests
{
    public static TheoryData<string> Clusters => new() { "http1", "http2" };

    private static async Task<(KestrelUpstream Upstream, RunningProxy Proxy)> StartAsync(string clusterProtocol, string idleTimeout = "1s")
    {
        var upstream = await KestrelUpstream.StartAsync("a", clusterProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address,
            listenerExtra: $"    idle_timeout: {idleTimeout}", clusterExtra: $"    protocol: {clusterProtocol}"));
        return (upstream, proxy);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task IdleTimeout_ResponseHeadLaterThanIt_200(string clusterProtocol)
    {
        var (upstream, proxy) = await StartAsync(clusterProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}"), Timeout = TimeSpan.FromSeconds(30) };

        // With no route timeout, the answer may take as long as it takes: 2.5 s is over two heartbeats past 1 s.
        using var response = await client.GetAsync("/slow/2500");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("slow", await response.Content.ReadAsStringAsync());
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_listener_idle_timeouts_total{listener=\"web\"}"));
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task IdleTimeout_BodyStreamedLongerThanIt_Complete(string clusterProtocol)
    {
        // The idle timeout is 2 s here, so a chunk that comes late on a busy machine is not taken for a stall.
        var (upstream, proxy) = await StartAsync(clusterProtocol, idleTimeout: "2s");
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}"), Timeout = TimeSpan.FromSeconds(30) };

        // Sixteen chunks 300 ms apart: about 5 s in all, never 2 s without a byte.
        var body = await client.GetStringAsync("/drip/16/300");
        Assert.Equal(string.Concat(Enumerable.Repeat("drip-drip\n", 16)), body);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_listener_idle_timeouts_total{listener=\"web\"}"));
    }

    /// <summary>A keep-alive connection with nothing in progress is still closed after the idle timeout.</summary>
    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task IdleTimeout_AfterTheResponse_ConnectionClosed(string clusterProtocol)
    {
        var (upstream, proxy) = await StartAsync(clusterProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.EndsWith("hello from a", await HttpProxyTests.ReadOneResponseAsync(socket));
        Assert.Equal("", await socket.ReadToEndAsync(TimeSpan.FromSeconds(15)));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_listener_idle_timeouts_total{listener=\"web\"}"));
    }
}
