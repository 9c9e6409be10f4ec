using System.Text;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// Interim responses (100 Continue, 103 Early Hints) of an HTTP/2 upstream reach HTTP/2 and HTTP/1.1 clients, and
/// those of an HTTP/1.1 upstream reach HTTP/2 clients; a 101 never reaches an HTTP/2 client.
/// </summary>
public class Http2InterimResponseTests
{
    private static RawHttp2Upstream HintingUpstream() => RawHttp2Upstream.Start(async exchange =>
    {
        if (exchange.Path == "/continue")
        {
            // Asks for the body, as a server does for "expect: 100-continue", and answers with its length.
            await exchange.HeadersAsync(100, endStream: false);
            var body = await exchange.Body;
            await exchange.RespondAsync(200, $"got {body.Length}");
            return;
        }

        await exchange.HeadersAsync(103, endStream: false, ("link", "</style.css>; rel=preload"));
        await exchange.RespondAsync(200, "final");
    });

    [Fact]
    public async Task EarlyHints_Http2Client_InterimHeadersBeforeFinal()
    {
        await using var upstream = HintingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("GET", "/page"), endStream: true);
        await client.FlushAsync();

        var stream = await client.ReadStreamAsync(1);
        Assert.True(stream.Ended);
        Assert.Equal(2, stream.HeaderBlocks.Count);
        Assert.Equal("103", stream.Status(0));
        Assert.Contains(("link", "</style.css>; rel=preload"), stream.HeaderBlocks[0]);
        Assert.Equal("200", stream.Status(1));
        Assert.Equal("final", Encoding.ASCII.GetString(stream.Data.ToArray()));
    }

    [Fact]
    public async Task Continue_Http2Client_BodySentAfterInterim()
    {
        await using var upstream = HintingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("POST", "/continue", ("expect", "100-continue")), endStream: false);
        await client.FlushAsync();

        // The body goes only once the 100 arrived: without the relay this read ends with the connection, not a block.
        var interim = await client.ReadStreamAsync(1, stopAfterHeaderBlocks: 1);
        Assert.Equal("100", interim.Status(0));
        client.Data(1, new byte[1234], endStream: true);
        await client.FlushAsync();

        var final = await client.ReadStreamAsync(1);
        Assert.True(final.Ended);
        Assert.Equal("200", final.Status(0));
        Assert.Equal("got 1234", Encoding.ASCII.GetString(final.Data.ToArray()));
    }

    [Fact]
    public async Task EarlyHints_Http1Client_1xxHeadBeforeFinal()
    {
        await using var upstream = HintingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /page HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        var response = await socket.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n", response);
        Assert.EndsWith("\r\n\r\n5\r\nfinal\r\n0\r\n\r\n", response); // no length upstream: chunked
    }

    [Fact]
    public async Task EarlyHints_Http10Client_NoInterimHead()
    {
        await using var upstream = HintingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /page HTTP/1.0\r\nHost: test\r\n\r\n");
        var response = await socket.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response); // RFC 9110 15.2: no 1xx to an HTTP/1.0 client
        Assert.EndsWith("final", response);
    }

    [Fact]
    public async Task Continue_Http1Client_BodySentAfterInterim()
    {
        await using var upstream = HintingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("POST /continue HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
        Assert.Equal("HTTP/1.1 100 Continue\r", await socket.ReadLineAsync());
        Assert.Equal("\r", await socket.ReadLineAsync());
        await socket.SendAsync("hello");
        var response = await socket.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response);
        Assert.EndsWith("\r\n\r\n5\r\ngot 5\r\n0\r\n\r\n", response);
    }

    /// <summary>
    /// An HTTP/1.1 upstream: /page gets two interim heads (a 103 with a field named by its Connection, and a 100)
    /// before the 200; /continue gets a 100, then the body is read and its length answered; /switch gets a 101 that
    /// nothing asked for.
    /// </summary>
    private static ScriptedHttp1Upstream HintingHttp1Upstream() => ScriptedHttp1Upstream.Start(async exchange =>
    {
        switch (exchange.Path)
        {
            case "/continue":
                await exchange.SendAsync("HTTP/1.1 100 Continue\r\n\r\n");
                var body = await exchange.ReadBodyAsync(int.Parse(exchange.Header("content-length")!));
                var answer = $"got {body.Length}";
                await exchange.SendAsync($"HTTP/1.1 200 OK\r\nContent-Length: {answer.Length}\r\n\r\n{answer}");
                break;
            case "/switch":
                await exchange.SendAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
                break;
            default:
                await exchange.SendAsync(
                    "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nConnection: x-hint-hop\r\nX-Hint-Hop: 1\r\n\r\n" +
                    "HTTP/1.1 100 Continue\r\n\r\n" +
                    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
                break;
        }
    });

    [Fact]
    public async Task EarlyHints_Http2Client_Http1Upstream_InterimHeadersBeforeFinal()
    {
        await using var upstream = HintingHttp1Upstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1"));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("GET", "/page"), endStream: true);
        await client.FlushAsync();

        var stream = await client.ReadStreamAsync(1);
        Assert.True(stream.Ended);
        Assert.Equal(3, stream.HeaderBlocks.Count);
        Assert.Equal("103", stream.Status(0));
        Assert.Contains(("link", "</style.css>; rel=preload"), stream.HeaderBlocks[0]);

        // RFC 9113 8.2.2: Connection and the fields it names stay on the HTTP/1.1 hop.
        Assert.DoesNotContain(stream.HeaderBlocks[0], f => f.Name is "connection" or "x-hint-hop");
        Assert.Equal("100", stream.Status(1));
        Assert.Equal("200", stream.Status(2));
        Assert.Equal("final", Encoding.ASCII.GetString(stream.Data.ToArray()));
    }

    [Fact]
    public async Task Continue_Http2Client_Http1Upstream_BodySentAfterInterim()
    {
        await using var upstream = HintingHttp1Upstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1"));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("POST", "/continue", ("content-length", "1234"), ("expect", "100-continue")), endStream: false);
        await client.FlushAsync();

        // The body goes only once the 100 arrived: without the relay this read ends with the connection, not a block.
        var interim = await client.ReadStreamAsync(1, stopAfterHeaderBlocks: 1);
        Assert.Equal("100", interim.Status(0));
        client.Data(1, new byte[1234], endStream: true);
        await client.FlushAsync();

        var final = await client.ReadStreamAsync(1);
        Assert.True(final.Ended);
        Assert.Equal("200", final.Status(0));
        Assert.Equal("got 1234", Encoding.ASCII.GetString(final.Data.ToArray()));
    }

    [Fact]
    public async Task SwitchingProtocols_Http2Client_Http1Upstream_502AndConnectionStillServes()
    {
        await using var upstream = HintingHttp1Upstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1"));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("GET", "/switch"), endStream: true);
        await client.FlushAsync();

        // RFC 9113 8.6: HTTP/2 has no 101, so the client gets a final 502 and never a 101 block.
        var switched = await client.ReadStreamAsync(1);
        Assert.True(switched.Ended);
        Assert.Single(switched.HeaderBlocks);
        Assert.Equal("502", switched.Status(0));
        Assert.Contains(("x-proxy-error", "bad-upstream-response"), switched.HeaderBlocks[0]);

        // The same client connection serves on; the switched upstream connection is not reused.
        client.Headers(3, client.RequestBlock("GET", "/page"), endStream: true);
        await client.FlushAsync();
        var next = await client.ReadStreamAsync(3);
        Assert.True(next.Ended);
        Assert.Equal("200", next.Status(next.HeaderBlocks.Count - 1));
        Assert.Equal("final", Encoding.ASCII.GetString(next.Data.ToArray()));
        Assert.Equal(2, upstream.Connections);
    }
}
