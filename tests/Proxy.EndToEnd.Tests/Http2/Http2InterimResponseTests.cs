using System.Text;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>Interim responses (100 Continue, 103 Early Hints) of an HTTP/2 upstream reach HTTP/2 and HTTP/1.1 clients.</summary>
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
}
