using System.Net;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// An HTTP/1.1 client's streamed body forwarded to an HTTP/2 cluster that goes wrong on the client's side: over the
/// listener's max_body_bytes, malformed chunking, or a client that leaves mid-body. The upstream stream is reset
/// (RFC 9113 8.1: the request can never be complete), the client is answered as on an HTTP/1.1 cluster, and the
/// proxy keeps serving.
/// </summary>
public class Http1ClientBodyToHttp2Tests
{
    /// <summary>An upstream that answers a complete body with its length, and records the resets it receives.</summary>
    private static RawHttp2Upstream Recording(List<Http2ErrorCode> resets) => RawHttp2Upstream.Start(async exchange =>
    {
        var ended = await Task.WhenAny(exchange.Body, exchange.Reset);
        if (ended == exchange.Reset)
        {
            var code = await exchange.Reset;
            lock (resets)
            {
                resets.Add(code);
            }

            return;
        }

        await exchange.RespondAsync(200, $"ok {(await exchange.Body).Length}");
    });

    private static int Count(List<Http2ErrorCode> resets)
    {
        lock (resets)
        {
            return resets.Count;
        }
    }

    private static async Task AssertStillServesAsync(RunningProxy proxy)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}"), Timeout = TimeSpan.FromSeconds(15) };
        using var response = await client.PostAsync("/after", new StringContent("fine"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok 4", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChunkedBodyOverLimit_413AndUpstreamStreamReset()
    {
        var resets = new List<Http2ErrorCode>();
        await using var upstream = Recording(resets);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            routeExtra: "    limits: { max_body_bytes: 1000 }"));
        using (var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web")))
        {
            await socket.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (var i = 0; i < 5; i++)
            {
                await socket.SendAsync("1f4\r\n" + new string('x', 500) + "\r\n");
            }

            var response = await socket.ReadToEndAsync(TimeSpan.FromSeconds(15));
            Assert.StartsWith("HTTP/1.1 413 ", response);
        }

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(Count(resets) == 1)));
        Assert.Equal(Http2ErrorCode.Cancel, resets[0]);
        await AssertStillServesAsync(proxy);
    }

    [Fact]
    public async Task MalformedChunkedBody_400AndUpstreamStreamReset()
    {
        var resets = new List<Http2ErrorCode>();
        await using var upstream = Recording(resets);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using (var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web")))
        {
            await socket.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
            await socket.SendAsync("a\r\n0123456789\r\n");
            Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(upstream.Requests == 1)));
            await socket.SendAsync("zz\r\nnot a chunk size\r\n");

            var response = await socket.ReadToEndAsync(TimeSpan.FromSeconds(15));
            Assert.StartsWith("HTTP/1.1 400 ", response);
        }

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(Count(resets) == 1)));
        await AssertStillServesAsync(proxy);
    }

    [Fact]
    public async Task ClientLeavesMidBody_UpstreamStreamResetNotLeftWaiting()
    {
        var resets = new List<Http2ErrorCode>();
        await using var upstream = Recording(resets);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using (var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web")))
        {
            await socket.SendAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" + new string('x', 1000));
            Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(upstream.Requests == 1)));
        }

        // Without the reset the upstream would hold the stream open, waiting for 4000 bytes that never come.
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(Count(resets) == 1)));
        Assert.Equal(Http2ErrorCode.Cancel, resets[0]);
        await AssertStillServesAsync(proxy);
    }
}
