using System.Buffers;
using Proxy.Http;
using Proxy.Http.Http1;
using static Proxy.Tests.Http.Http1.TestInput;

namespace Proxy.Tests.Http.Http1;

public class Http1HeadWriterTests
{
    [Fact]
    public void WriteRequest_HopByHopAndConnectionNamed_DroppedRestByteForByte()
    {
        Http1RequestHead head = ParseRequest(
            "POST /submit?x=1 HTTP/1.1\r\n"
            + "Host: api.local\r\n"
            + "user-agent:   Mixed-Case/1.0  \r\n"
            + "Connection: keep-alive, X-Conn-Secret, x-other-hop\r\n"
            + "Keep-Alive: timeout=5\r\n"
            + "X-Conn-Secret: drop me\r\n"
            + "Accept: */*\r\n"
            + "TE: trailers\r\n"
            + "Trailer: x-sum\r\n"
            + "Transfer-Encoding: chunked\r\n"
            + "Proxy-Connection: keep-alive\r\n"
            + "Proxy-Authorization: Basic Zm9v\r\n"
            + "Upgrade: h2c\r\n"
            + "X-Other-Hop: 1\r\n"
            + "X-Keep:\tvalue\twith\ttabs\r\n"
            + "\r\n");

        string written = WriteRequest(head, new Http1ForwardOptions { Framing = Http1BodyFraming.Chunked });

        Assert.Equal(
            "POST /submit?x=1 HTTP/1.1\r\n"
            + "Host: api.local\r\n"
            + "user-agent:   Mixed-Case/1.0  \r\n"
            + "Accept: */*\r\n"
            + "X-Keep:\tvalue\twith\ttabs\r\n"
            + "transfer-encoding: chunked\r\n"
            + "\r\n",
            written);
    }

    [Fact]
    public void WriteRequest_H2cUpgradeOffer_ForwardedAsPlainRequest()
    {
        Http1RequestHead head = ParseRequest(
            "GET /app HTTP/1.1\r\nHost: api.local\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n");

        string written = WriteRequest(head, new Http1ForwardOptions { ForwardUpgrade = head.IsUpgradeRequest });

        Assert.Equal("GET /app HTTP/1.1\r\nHost: api.local\r\n\r\n", written);
    }

    [Fact]
    public void WriteRequest_ProxyFields_AppendedAndReplaced()
    {
        Http1RequestHead head = ParseRequest(
            "GET / HTTP/1.0\r\nHost: shop\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: ftp\r\n"
            + "Content-Length: 0\r\nVia: 1.0 edge\r\nX-Forwarded-For: 2.2.2.2, 3.3.3.3\r\n\r\n");

        string written = WriteRequest(head, new Http1ForwardOptions
        {
            Framing = Http1BodyFraming.ContentLength,
            ContentLength = 0,
            Connection = "keep-alive"u8,
            ForwardedFor = "10.0.0.9"u8,
            ForwardedProto = "https"u8,
            ForwardedHost = "shop"u8,
            RequestId = "req-1"u8,
            Via = "1.1 proxy"u8,
            ExtraLines = "x-extra: 1\r\n"u8,
        });

        Assert.Equal(
            "GET / HTTP/1.1\r\n"
            + "Host: shop\r\n"
            + "Via: 1.0 edge\r\n"
            + "x-forwarded-for: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\n"
            + "x-forwarded-proto: https\r\n"
            + "x-forwarded-host: shop\r\n"
            + "x-request-id: req-1\r\n"
            + "via: 1.1 proxy\r\n"
            + "content-length: 0\r\n"
            + "connection: keep-alive\r\n"
            + "x-extra: 1\r\n"
            + "\r\n",
            written);
    }

    [Fact]
    public void WriteRequest_ExistingRequestId_Kept()
    {
        Http1RequestHead head = ParseRequest("GET / HTTP/1.1\r\nHost: h\r\nX-Request-ID: theirs\r\n\r\n");
        string written = WriteRequest(head, new Http1ForwardOptions { RequestId = "ours"u8 });
        Assert.Equal("GET / HTTP/1.1\r\nHost: h\r\nX-Request-ID: theirs\r\n\r\n", written);
    }

    [Theory]
    [InlineData("GET http://Origin:8080/a/b?c HTTP/1.1\r\nHost: stale\r\nAccept: x\r\n\r\n", "GET /a/b?c HTTP/1.1\r\nAccept: x\r\nhost: Origin:8080\r\n\r\n")]
    [InlineData("GET http://origin HTTP/1.1\r\nHost: origin\r\n\r\n", "GET / HTTP/1.1\r\nhost: origin\r\n\r\n")]
    [InlineData("GET http://origin?q HTTP/1.1\r\nHost: origin\r\n\r\n", "GET /?q HTTP/1.1\r\nhost: origin\r\n\r\n")]
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")]
    [InlineData("CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n", "CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n")]
    public void WriteRequest_TargetForms_OriginFormForUpstream(string request, string expected) =>
        Assert.Equal(expected, WriteRequest(ParseRequest(request), default));

    [Fact]
    public void WriteRequest_RelayingUpgrade_KeepsUpgrade()
    {
        Http1RequestHead head = ParseRequest("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n");
        string written = WriteRequest(head, new Http1ForwardOptions { ForwardUpgrade = true, Connection = "upgrade"u8 });
        Assert.Equal("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nconnection: upgrade\r\n\r\n", written);
    }

    [Fact]
    public void WriteResponse_FiltersAndReframes()
    {
        var head = new Http1ResponseHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(
            "HTTP/1.0 200 Fine Thanks\r\nServer: up\r\nConnection: close, X-Up-Hop\r\nX-Up-Hop: a\r\n"
            + "Content-Length: 12\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nProxy-Authenticate: Basic\r\n\r\n")));
        Assert.True(head.TryParse(ref reader, out _));
        var output = new ArrayBufferWriter<byte>();

        Http1HeadWriter.WriteResponse(output, head, new Http1ForwardOptions
        {
            Framing = Http1BodyFraming.ContentLength,
            ContentLength = 12,
            Via = "1.0 proxy"u8,
        });

        Assert.Equal(
            "HTTP/1.1 200 Fine Thanks\r\nServer: up\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nvia: 1.0 proxy\r\ncontent-length: 12\r\n\r\n",
            Text(output.WrittenSpan));
    }

    [Fact]
    public void WriteResponse_EmptyReason_KeepsSeparator()
    {
        var head = new Http1ResponseHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("HTTP/1.1 204\r\n\r\n")));
        Assert.True(head.TryParse(ref reader, out _));
        var output = new ArrayBufferWriter<byte>();
        Http1HeadWriter.WriteResponse(output, head, default);
        Assert.Equal("HTTP/1.1 204 \r\n\r\n", Text(output.WrittenSpan));
    }

    [Theory]
    [InlineData(400, "Bad Request")]
    [InlineData(404, "Not Found")]
    [InlineData(413, "Content Too Large")]
    [InlineData(414, "URI Too Long")]
    [InlineData(431, "Request Header Fields Too Large")]
    [InlineData(502, "Bad Gateway")]
    [InlineData(503, "Service Unavailable")]
    [InlineData(504, "Gateway Timeout")]
    public void WriteErrorResponse_Status_FlagLengthAndClose(int status, string reason)
    {
        var output = new ArrayBufferWriter<byte>();
        Http1HeadWriter.WriteErrorResponse(output, status, "some-flag"u8);

        string body = reason + "\n";
        Assert.Equal(
            $"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\nx-proxy-error: some-flag\r\n"
            + $"content-length: {body.Length}\r\nconnection: close\r\n\r\n{body}",
            Text(output.WrittenSpan));

        // What we generate must itself parse under our own strict rules.
        var head = new Http1ResponseHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
        Assert.True(head.TryParse(ref reader, out _));
        Assert.Equal(status, head.StatusCode);
        Assert.Equal(body.Length, reader.Remaining);
    }

    [Fact]
    public void WriteErrorResponse_ParseErrorFlagAndBody_Written()
    {
        var output = new ArrayBufferWriter<byte>();
        Http1ParseError error = Http1ParseError.ContentLengthWithTransferEncoding;
        Http1HeadWriter.WriteErrorResponse(output, error.ToStatusCode(), error.ToFlag(), "bad framing"u8, close: false);
        Assert.Equal(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nx-proxy-error: content-length-with-transfer-encoding\r\n"
            + "content-length: 11\r\nconnection: keep-alive\r\n\r\nbad framing",
            Text(output.WrittenSpan));
    }

    [Fact]
    public void ParseAndWrite_SteadyState_AllocatesNothing()
    {
        byte[] request = Bytes(
            "GET /api/v1/items?page=2 HTTP/1.1\r\nHost: api.local\r\nUser-Agent: bench\r\nAccept: */*\r\n"
            + "Connection: keep-alive\r\nX-Request-Id: abc\r\n\r\n");
        var head = new Http1RequestHead();
        var output = new ArrayBufferWriter<byte>(4096);
        RoundTrip(head, request, output);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) RoundTrip(head, request, output);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void RoundTrip(Http1RequestHead head, byte[] request, ArrayBufferWriter<byte> output)
        {
            head.Reset();
            output.ResetWrittenCount();
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(request));
            Assert.True(head.TryParse(ref reader, out _));
            Http1HeadWriter.WriteRequest(output, head, new Http1ForwardOptions
            {
                Connection = "keep-alive"u8,
                ForwardedFor = "10.0.0.1"u8,
                ForwardedProto = "http"u8,
            });
        }
    }

    private static Http1RequestHead ParseRequest(string request)
    {
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(request)));
        Assert.True(head.TryParse(ref reader, out Http1ParseError error), error.ToString());
        return head;
    }

    private static string WriteRequest(Http1RequestHead head, Http1ForwardOptions options)
    {
        var output = new ArrayBufferWriter<byte>();
        Http1HeadWriter.WriteRequest(output, head, options);
        return Text(output.WrittenSpan);
    }
}
