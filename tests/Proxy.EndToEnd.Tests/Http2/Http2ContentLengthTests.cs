using System.Text;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>RFC 9113 8.1.1: a content-length that does not match the DATA makes the message malformed, both ways.</summary>
public class Http2ContentLengthTests
{
    [Theory]
    [MemberData(nameof(Http2ProxyTests.UpstreamProtocols), MemberType = typeof(Http2ProxyTests))]
    public async Task Request_EndsShortOfContentLength_StreamResetProtocolError(string upstreamProtocol)
    {
        var (upstream, proxy) = await Http2ProxyTests.StartAsync(upstreamProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("POST", "/sha256", ("content-length", "10")), endStream: false);
        client.Data(1, Encoding.ASCII.GetBytes("hello"), endStream: true);
        await client.FlushAsync();

        var stream = await client.ReadStreamAsync(1);
        Assert.Equal(Http2ErrorCode.ProtocolError, stream.Reset);
        Assert.Empty(stream.HeaderBlocks);
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.UpstreamProtocols), MemberType = typeof(Http2ProxyTests))]
    public async Task Request_DataBeyondContentLength_StreamResetProtocolError(string upstreamProtocol)
    {
        var (upstream, proxy) = await Http2ProxyTests.StartAsync(upstreamProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("POST", "/sha256", ("content-length", "3")), endStream: false);
        client.Data(1, Encoding.ASCII.GetBytes("hello"), endStream: false);
        await client.FlushAsync();

        var stream = await client.ReadStreamAsync(1);
        Assert.Equal(Http2ErrorCode.ProtocolError, stream.Reset);
        Assert.Empty(stream.HeaderBlocks);

        // The connection itself is fine: the next stream is served.
        client.Headers(3, client.RequestBlock("GET", "/hello"), endStream: true);
        await client.FlushAsync();
        var next = await client.ReadStreamAsync(3);
        Assert.True(next.Ended);
        Assert.Equal("200", next.Status(0));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("5, 6")]
    [InlineData("5")] // a request without content (END_STREAM on HEADERS) declaring 5 bytes
    public async Task Request_InvalidOrUnmetContentLength_ResetAndNeverForwarded(string value)
    {
        var (upstream, proxy) = await Http2ProxyTests.StartAsync("http2");
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("GET", "/hello", ("content-length", value)), endStream: true);
        await client.FlushAsync();

        var stream = await client.ReadStreamAsync(1);
        Assert.Equal(Http2ErrorCode.ProtocolError, stream.Reset);
        Assert.Equal(0, upstream.Requests);
    }

    private static RawHttp2Upstream LyingUpstream() => RawHttp2Upstream.Start(exchange => exchange.Path switch
    {
        "/short" => exchange.RespondAsync(200, "hello", ("content-length", "10")),
        "/long" => exchange.RespondAsync(200, "hello", ("content-length", "3")),
        "/declared-empty" => exchange.HeadersAsync(200, endStream: true, ("content-length", "5")),
        "/not-modified" => exchange.HeadersAsync(304, endStream: true, ("content-length", "10")),
        _ => exchange.Method == "HEAD"
            ? exchange.HeadersAsync(200, endStream: true, ("content-length", "10"))
            : exchange.RespondAsync(200, "exact", ("content-length", "5")),
    });

    [Theory]
    [InlineData("/short")]
    [InlineData("/long")]
    public async Task Response_ContentLengthMismatch_DownstreamStreamReset(string path)
    {
        await using var upstream = LyingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("GET", path), endStream: true);
        await client.FlushAsync();

        var stream = await client.ReadStreamAsync(1);
        Assert.False(stream.Ended);
        Assert.Equal(Http2ErrorCode.InternalError, stream.Reset);
        Assert.True(stream.Data.Length < 5, $"{stream.Data.Length} bytes relayed");
    }

    [Fact]
    public async Task Response_ContentLengthWithoutContent_Http1ClientGets502()
    {
        await using var upstream = LyingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /declared-empty HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        var response = await socket.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 502 ", response);
        Assert.Contains("upstream-reset", response);
    }

    [Fact]
    public async Task Response_ShortBody_Http1ClientConnectionClosedBeforeDeclaredLength()
    {
        await using var upstream = LyingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /short HTTP/1.1\r\nHost: test\r\n\r\n");
        var response = await socket.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 200 ", response);
        var body = response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        Assert.True(body.Length < 10, body);
    }

    [Theory]
    [InlineData("HEAD", "/hello", "200")]
    [InlineData("GET", "/not-modified", "304")]
    [InlineData("GET", "/exact", "200")]
    public async Task Response_ContentLengthExemptOrExact_Relayed(string method, string path, string status)
    {
        await using var upstream = LyingUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock(method, path), endStream: true);
        await client.FlushAsync();

        var stream = await client.ReadStreamAsync(1);
        Assert.True(stream.Ended);
        Assert.Null(stream.Reset);
        Assert.Equal(status, stream.Status(0));
        Assert.Equal(path == "/exact" ? "exact" : "", Encoding.ASCII.GetString(stream.Data.ToArray()));
    }
}
