using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>
/// Malformed and smuggling-shaped requests over a real socket: each gets its status, the
/// connection is closed, and nothing reaches the upstream.
/// </summary>
public class BadInputTests
{
    public static TheoryData<string, int, string> Cases => new()
    {
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "content-length-with-transfer-encoding" },
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400, "conflicting-content-length" },
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400, "invalid-content-length" },
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400, "invalid-content-length" },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400, "" },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400, "" },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", 400, "obs-fold" },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\0b\r\n\r\n", 400, "invalid-header-value" },
        { "GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400, "" },
        { "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400, "" },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-Space : x\r\n\r\n", 400, "whitespace-before-colon" },
        { "GET / HTTP/1.1\r\n\r\n", 400, "missing-host" },
        { "GET / HTTP/1.1\nHost: a\n\n", 400, "" },
        { "GARBAGE\r\n\r\n", 400, "" },
        { "GET /" + new string('a', 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, "request-target-too-long" },
        { "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('b', 70_000) + "\r\n\r\n", 431, "headers-too-large" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadRequest_RejectedWithStatusAndClosed_UpstreamNeverSeesIt(string request, int status, string flag)
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));

        try
        {
            await socket.SendAsync(request);
        }
        catch (System.Net.Sockets.SocketException)
        {
            // The proxy may close while a large request is still being written.
        }

        var response = await socket.ReadToEndAsync(TimeSpan.FromSeconds(15));
        Assert.StartsWith($"HTTP/1.1 {status} ", response);
        Assert.Contains("connection: close", response);
        if (flag.Length > 0)
        {
            Assert.Contains($"x-proxy-error: {flag}", response);
        }

        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task BodyOverLimit_413()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address, listenerExtra: "    limits: { max_body_bytes: 1000 }"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("POST /sha256 HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n");
        var response = await socket.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 413 ", response);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task ChunkedBodyOverLimit_413()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address, listenerExtra: "    limits: { max_body_bytes: 1000 }"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("POST /sha256 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (var i = 0; i < 5; i++)
        {
            await socket.SendAsync("1f4\r\n" + new string('x', 500) + "\r\n");
        }

        var response = await socket.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 413 ", response);
    }

    [Fact]
    public async Task Slowloris_HeadNotFinishedInTime_408AndOthersStillServed()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address, listenerExtra: "    limits: { header_timeout: 1s }"));
        using var slow = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await slow.SendAsync("GET /hello HTTP/1.1\r\nHost: a\r\nX-Slow: ");

        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}") };
        Assert.Equal("hello from upstream", await client.GetStringAsync("/hello"));

        var response = await slow.ReadToEndAsync(TimeSpan.FromSeconds(15));
        Assert.StartsWith("HTTP/1.1 408 ", response);
        Assert.Contains("x-proxy-error: request-header-timeout", response);
    }

    [Fact]
    public async Task IdleKeepAlive_ClosedAfterIdleTimeout()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address, listenerExtra: "    idle_timeout: 1s"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.EndsWith("hello from upstream", await HttpProxyTests.ReadOneResponseAsync(socket));
        Assert.Equal("", await socket.ReadToEndAsync(TimeSpan.FromSeconds(15)));
    }
}
