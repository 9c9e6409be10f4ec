using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>HTTP/2 upstream connections without streams are closed after the cluster's pool idle_timeout.</summary>
public class Http2UpstreamIdleTests
{
    [Fact]
    public async Task IdleUpstreamConnection_PastPoolIdleTimeout_GoAwayThenNewConnection()
    {
        await using var upstream = RawHttp2Upstream.Start(exchange => exchange.RespondAsync(200, $"on {exchange.Connection.Index}"));
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            clusterExtra: "    pool: { idle_timeout: 1s }"));
        using var client = Http2ProxyTests.H2Client(proxy);
        Assert.Equal("on 1", await client.GetStringAsync("/x"));

        // The sweeper runs every few seconds: a bound wait, not a timing assertion.
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(upstream.Closed == 1), TimeSpan.FromSeconds(30)));
        Assert.Equal(1, upstream.GoAways); // closed gracefully, with GOAWAY first

        Assert.Equal("on 2", await client.GetStringAsync("/x"));
        Assert.Equal(2, upstream.Connections);
    }
}
