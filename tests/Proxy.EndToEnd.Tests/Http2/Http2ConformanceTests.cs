using System.Net.Sockets;
using System.Text;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// RFC 9113 stream states and identifiers, frame by frame over a real socket against the running proxy, on both
/// listener protocols that speak HTTP/2 (h2c). Each test sends the frames, then a PING: the proxy handles frames in
/// order, so its answer to them (RST_STREAM, GOAWAY, or nothing) is read before the PING's ACK.
/// </summary>
public class Http2ConformanceTests
{
    public static TheoryData<string> ListenerProtocols => new() { "http", "auto" };

    private static readonly byte[] Late = "late"u8.ToArray();

    private static Task<(KestrelUpstream Upstream, RunningProxy Proxy)> StartAsync(string listenerProtocol) =>
        Http2ProxyTests.StartAsync("http1", listenerProtocol);

    private static Http2ErrorCode? GoAway(List<RawHttp2Client.FrameSeen> frames) =>
        frames.LastOrDefault(f => f.Type == Http2FrameType.GoAway).ErrorCode;

    private static Http2ErrorCode? Reset(List<RawHttp2Client.FrameSeen> frames, int streamId) =>
        frames.LastOrDefault(f => f.Type == Http2FrameType.RstStream && f.StreamId == streamId).ErrorCode;

    /// <summary>Stream 1: GET /hello, read to its END_STREAM: closed on both sides.</summary>
    private static async Task CompleteOneRequestAsync(RawHttp2Client client)
    {
        client.Headers(1, client.RequestBlock("GET", "/hello"), endStream: true);
        await client.FlushAsync();
        var events = await client.ReadStreamAsync(1);
        Assert.True(events.Ended);
        Assert.Equal("200", events.Status(0));
    }

    // RFC 9113 5.1 (closed): "an endpoint that receives any frames after receiving a frame with the END_STREAM flag
    // set MUST treat that as a connection error of type STREAM_CLOSED"; 6.1: DATA on a closed stream is STREAM_CLOSED.
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Data_OnStreamClosedByBothEndStreams_GoAwayStreamClosed(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        await CompleteOneRequestAsync(client);

        client.Data(1, Late, endStream: true);
        var frames = await client.PingAndReadAsync();

        Assert.Equal(Http2ErrorCode.StreamClosed, GoAway(frames));
    }

    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Headers_OnStreamClosedByBothEndStreams_GoAwayStreamClosed(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        await CompleteOneRequestAsync(client);

        client.Headers(1, client.RequestBlock("GET", "/hello"), endStream: true);
        var frames = await client.PingAndReadAsync();

        Assert.Equal(Http2ErrorCode.StreamClosed, GoAway(frames));
    }

    // 5.1 (closed): "An endpoint that receives any frame other than PRIORITY after receiving a RST_STREAM MUST treat
    // that as a stream error of type STREAM_CLOSED" (a connection error is allowed too, 5.4.1).
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Data_AfterClientReset_StreamClosed(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        client.Headers(1, client.RequestBlock("POST", "/echo"), endStream: false);
        Http2FrameWriter.WriteRstStream(client.Output, 1, Http2ErrorCode.Cancel);
        client.Data(1, Late, endStream: true);
        var frames = await client.PingAndReadAsync();

        Assert.True(Reset(frames, 1) == Http2ErrorCode.StreamClosed || GoAway(frames) == Http2ErrorCode.StreamClosed,
            $"expected STREAM_CLOSED, saw: {string.Join(", ", frames)}");
    }

    // 5.1: "An endpoint MUST ignore frames that it receives on closed streams after it has sent a RST_STREAM frame":
    // the client may have sent them before our reset reached it. The connection keeps serving.
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Data_AfterProxyReset_IgnoredAndConnectionServes(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        // More DATA than the declared content-length: malformed (8.1.1), the proxy resets the stream.
        client.Headers(1, client.RequestBlock("POST", "/echo", ("content-length", "3")), endStream: false);
        client.Data(1, "too long"u8.ToArray(), endStream: false);
        client.Data(1, Late, endStream: false);
        client.Headers(1, client.FieldBlock(("x-trailer", "1")), endStream: true);
        var frames = await client.PingAndReadAsync();

        Assert.Equal(Http2ErrorCode.ProtocolError, Reset(frames, 1));
        Assert.Null(GoAway(frames));
        client.Headers(3, client.RequestBlock("GET", "/hello"), endStream: true);
        await client.FlushAsync();
        var events = await client.ReadStreamAsync(3);
        Assert.Equal("200", events.Status(0));
        Assert.Equal("hello from a", Encoding.ASCII.GetString(events.Data.ToArray()));
    }

    // 5.1 (half-closed (remote)): "If an endpoint receives additional frames, other than WINDOW_UPDATE, PRIORITY, or
    // RST_STREAM, for a stream that is in this state, it MUST respond with a stream error of type STREAM_CLOSED."
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Data_OnHalfClosedRemoteStream_RstStreamClosed(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        client.Headers(1, client.RequestBlock("GET", "/slow/2000"), endStream: true);
        client.Data(1, Late, endStream: false);
        var frames = await client.PingAndReadAsync();

        Assert.Equal(Http2ErrorCode.StreamClosed, Reset(frames, 1));
        Assert.Null(GoAway(frames));
        Assert.DoesNotContain(frames, f => f.Type == Http2FrameType.Headers && f.StreamId == 1);
    }

    // 5.1.1: "The identifier of a newly established stream MUST be numerically greater than all streams that the
    // initiating endpoint has opened ... An endpoint that receives an unexpected stream identifier MUST respond
    // with a connection error of type PROTOCOL_ERROR."
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Headers_OpeningStreamBelowOneAlreadyUsed_GoAwayProtocolError(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        client.Headers(5, client.RequestBlock("GET", "/hello"), endStream: true);
        client.Headers(3, client.RequestBlock("GET", "/hello"), endStream: true);
        var frames = await client.PingAndReadAsync();

        Assert.Equal(Http2ErrorCode.ProtocolError, GoAway(frames));
        Assert.DoesNotContain(frames, f => f.Type == Http2FrameType.Headers && f.StreamId == 3);
    }

    // 8.1: "An endpoint that receives a HEADERS frame without the END_STREAM flag set after receiving the HEADERS
    // frame that opens a request ... MUST treat the corresponding request or response as malformed" (a stream error
    // of type PROTOCOL_ERROR, 8.1.1).
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task SecondHeaders_WithoutEndStream_RstProtocolError(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        client.Headers(1, client.RequestBlock("POST", "/echo"), endStream: false);
        client.Data(1, "test"u8.ToArray(), endStream: false);
        client.Headers(1, client.FieldBlock(("x-trailer", "1")), endStream: false);
        var frames = await client.PingAndReadAsync();

        Assert.True(Reset(frames, 1) == Http2ErrorCode.ProtocolError || GoAway(frames) == Http2ErrorCode.ProtocolError,
            $"expected PROTOCOL_ERROR, saw: {string.Join(", ", frames)}");
    }

    // The same, when the upstream answered before the request body ended: the proxy finished the stream (8.1 lets it
    // reset a stream whose response is complete with NO_ERROR), yet the second HEADERS is still malformed.
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task SecondHeaders_WithoutEndStream_AfterResponseCompleted_RstProtocolError(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        client.Headers(1, client.RequestBlock("POST", "/hello"), endStream: false); // GET only: 405 without reading the body
        await client.FlushAsync();
        var response = await client.ReadStreamAsync(1);
        Assert.Equal("405", response.Status(0));
        client.Data(1, "test"u8.ToArray(), endStream: false);
        client.Headers(1, client.FieldBlock(("x-test", "ok")), endStream: false);
        var frames = await client.PingAndReadAsync();

        Assert.True(Reset(frames, 1) == Http2ErrorCode.ProtocolError || GoAway(frames) == Http2ErrorCode.ProtocolError,
            $"expected PROTOCOL_ERROR, saw: {string.Join(", ", frames)}");
    }

    // 8.1: trailers are a second HEADERS frame WITH END_STREAM: legal, the request is served.
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Trailers_SecondHeadersWithEndStream_RequestServed(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        client.Headers(1, client.RequestBlock("POST", "/echo"), endStream: false);
        client.Data(1, "test"u8.ToArray(), endStream: false);
        client.Headers(1, client.FieldBlock(("x-trailer", "1")), endStream: true);
        await client.FlushAsync();
        var events = await client.ReadStreamAsync(1);

        Assert.True(events.Ended);
        Assert.Equal("200", events.Status(0));
        Assert.Equal("test", Encoding.ASCII.GetString(events.Data.ToArray()));
    }

    // 3.4: "Clients and servers MUST treat an invalid connection preface as a connection error of type
    // PROTOCOL_ERROR." Bytes that start like the preface and then differ are a broken HTTP/2 client, not HTTP/1.1.
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Preface_StartsLikeOneThenDiffers_GoAwayProtocolError(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"), "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"u8.ToArray());

        var frames = await client.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway);

        Assert.Equal(Http2ErrorCode.ProtocolError, GoAway(frames));
    }

    // The preface check stays out of HTTP/1.1's way: a request line is still served as HTTP/1.1.
    [Theory]
    [MemberData(nameof(ListenerProtocols))]
    public async Task Preface_OtherBytes_AnsweredAsHttp1(string listenerProtocol)
    {
        var (upstream, proxy) = await StartAsync(listenerProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"u8.ToArray());

        var answer = await TcpClientHelpers.ReadToEndAsync(socket);

        Assert.StartsWith("HTTP/1.1 200", answer);
    }
}
