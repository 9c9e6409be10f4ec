using System.Buffers;
using Proxy.Http;
using Proxy.Http.Http1;
using static Proxy.Tests.Http.Http1.TestInput;

namespace Proxy.Tests.Http.Http1;

public class Http1RequestHeadTests
{
    public static TheoryData<string> ValidRequests => new()
    {
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /api/items?id=7&x=%20 HTTP/1.1\r\nHost: api.local:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
            + "Accept-Encoding: gzip, br\r\nX-Trace: \t abc \t\r\nCookie: a=1; b=2\r\n\r\n",
        "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n\r\n",
        "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n",
        "GET http://origin.example:81/p?q=1 HTTP/1.1\r\nHost: ignored\r\n\r\n",
        "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n",
        "GET /old HTTP/1.0\r\n\r\n",
        "\r\nPURGE /cache HTTP/1.1\r\nHost: [::1]:8080\r\nEmpty:\r\n\r\n",
    };

    [Fact]
    public void TryParse_TypicalGet_LocatesEveryPart()
    {
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(
            "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nAccept:  text/html \r\nX-Empty:\r\n\r\nBODY")));

        Assert.True(head.TryParse(ref reader, out Http1ParseError error));

        Assert.Equal(Http1ParseError.None, error);
        Assert.Equal(RequestMethod.Get, head.Method);
        Assert.Equal("/a/b?c=d", Text(head.Target));
        Assert.Equal("/a/b", Text(head.Path));
        Assert.Equal(RequestTargetForm.Origin, head.TargetForm);
        Assert.Equal(Http1Version.Http11, head.Version);
        Assert.Equal("example.com", Text(head.Host));
        Assert.Equal("example.com", Text(head.Authority));
        Assert.Equal(3, head.Fields.Length);
        Assert.Equal("Accept", Text(head.GetName(1)));
        Assert.Equal("text/html", Text(head.GetValue(1)));
        Assert.Equal("Accept:  text/html \r\n", Text(head.GetLine(1)));
        Assert.Equal("", Text(head.GetValue(2)));
        Assert.True(head.TryGetValue("accept"u8, out ReadOnlySpan<byte> accept));
        Assert.Equal("text/html", Text(accept));
        Assert.Equal(-1, head.ContentLength);
        Assert.Equal(Http1BodyFraming.None, head.BodyFraming);
        Assert.True(head.KeepAlive);
        Assert.Equal("BODY", Text(reader.UnreadSequence));
    }

    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void TryParse_EveryPrefix_NeedsMoreAndConsumesNothing(string request)
    {
        byte[] data = Bytes(request);
        var reused = new Http1RequestHead();
        for (int length = 0; length < data.Length; length++)
        {
            // A fresh head and a reused one (which resumes its scan) must both wait.
            foreach (Http1RequestHead head in new[] { new Http1RequestHead(), reused })
            {
                var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data, 0, length));
                Assert.False(head.TryParse(ref reader, out Http1ParseError error));
                Assert.Equal(Http1ParseError.None, error);
                Assert.Equal(0, reader.Consumed);
            }
        }

        var full = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));
        Assert.True(reused.TryParse(ref full, out _));
        Assert.Equal(data.Length, full.Consumed);
        Assert.Equal(Describe(data), HeadDescriber.Describe(reused));
    }

    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void TryParse_EveryTwoSegmentSplit_SameResult(string request)
    {
        byte[] data = Bytes(request);
        string expected = Describe(data);
        for (int at = 0; at <= data.Length; at++)
        {
            var head = new Http1RequestHead();
            var reader = new SequenceReader<byte>(Split(data, at));
            Assert.True(head.TryParse(ref reader, out Http1ParseError error), $"split at {at}: {error}");
            Assert.Equal(data.Length, reader.Consumed);
            Assert.Equal(expected, HeadDescriber.Describe(head));
        }
    }

    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void TryParse_OneSegmentPerByte_SameResult(string request)
    {
        byte[] data = Bytes(request);
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(PerByte(data));
        Assert.True(head.TryParse(ref reader, out _));
        Assert.Equal(Describe(data), HeadDescriber.Describe(head));
    }

    [Fact]
    public void TryParse_PipelinedRequests_ParsesEachInTurn()
    {
        byte[] data = Bytes(
            "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" +
            "POST /2 HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nxyz" +
            "GET /3 HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n" +
            "GET /4 HTTP/1.1\r\nHo");
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));

        Assert.True(head.TryParse(ref reader, out _));
        Assert.Equal("/1", Text(head.Target));
        Assert.Equal("a", Text(head.Host));

        head.Reset();
        Assert.True(head.TryParse(ref reader, out _));
        Assert.Equal("/2", Text(head.Target));
        Assert.Equal(3, head.ContentLength);
        var body = new ContentLengthDecoder();
        body.Reset(head.ContentLength);
        Assert.True(body.TryRead(ref reader, out ReadOnlySequence<byte> bodyBytes));
        Assert.Equal("xyz", Text(bodyBytes));
        Assert.True(body.IsCompleted);

        head.Reset();
        Assert.True(head.TryParse(ref reader, out _));
        Assert.Equal("/3", Text(head.Target));
        Assert.False(head.KeepAlive);

        head.Reset();
        long before = reader.Consumed;
        Assert.False(head.TryParse(ref reader, out Http1ParseError error));
        Assert.Equal(Http1ParseError.None, error);
        Assert.Equal(before, reader.Consumed);
    }

    [Fact]
    public void TryParse_AbsoluteForm_AuthorityAndPathFromTarget()
    {
        Http1RequestHead head = Parse("GET HTTP://Origin.example:81?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
        Assert.Equal(RequestTargetForm.Absolute, head.TargetForm);
        Assert.Equal("Origin.example:81", Text(head.Authority));
        Assert.Equal("?q=1", Text(head.PathAndQuery));
        Assert.Equal("other", Text(head.Host));
    }

    [Fact]
    public void TryParse_ConnectAndOptions_SpecialForms()
    {
        Http1RequestHead connect = Parse("CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(RequestTargetForm.Authority, connect.TargetForm);
        Assert.Equal("[2001:db8::1]:443", Text(connect.Authority));

        Http1RequestHead options = Parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(RequestTargetForm.Asterisk, options.TargetForm);
    }

    [Fact]
    public void TryParse_DerivedFlags_ExpectUpgradeTrailersHopByHop()
    {
        Http1RequestHead head = Parse(
            "POST /ws HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nTE: gzip, trailers\r\nUpgrade: websocket\r\n"
            + "Connection: upgrade, x-hop, host\r\nX-Hop: 1\r\nx-keep: 2\r\nContent-Length: 0\r\n\r\n");
        Assert.True(head.ExpectContinue);
        Assert.True(head.AcceptsTrailers);
        Assert.True(head.IsUpgradeRequest);
        Assert.Equal(0, head.ContentLength);
        Assert.Equal(Http1BodyFraming.ContentLength, head.BodyFraming);

        // Connection may name X-Hop but never Host.
        Assert.True(head.Fields[5].IsHopByHop);
        Assert.False(head.Fields[0].IsHopByHop);
        Assert.False(head.Fields[6].IsHopByHop);
    }

    [Theory]
    [InlineData("Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings\r\n")]
    [InlineData("Upgrade: websocket, H2C\r\nConnection: upgrade\r\n")]
    [InlineData("Upgrade: websocket\r\nUpgrade: h2c\r\nConnection: upgrade\r\n")]
    public void TryParse_H2cOffered_NotAnUpgradeTheProxyRelays(string fields)
    {
        // RFC 9113 3.1 deprecates h2c; relaying it would turn the connection into HTTP/2 streams no rule sees.
        Http1RequestHead head = Parse("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n");
        Assert.True(head.HasUpgrade);
        Assert.True(head.UpgradeOffersH2c);
        Assert.False(head.IsUpgradeRequest);
    }

    [Theory]
    [InlineData("GET / HTTP/1.0\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.9\r\nHost: h\r\n\r\n", true)]
    public void TryParse_ConnectionDefaults_KeepAliveByVersion(string request, bool keepAlive) =>
        Assert.Equal(keepAlive, Parse(request).KeepAlive);

    [Theory]
    [InlineData("Content-Length: 5, 5\r\n", 5)]
    [InlineData("Content-Length: 7\r\nContent-Length: 7\r\n", 7)]
    [InlineData("Content-Length: 9223372036854775807\r\n", long.MaxValue)]
    public void TryParse_RepeatedEqualContentLength_Accepted(string fields, long expected) =>
        Assert.Equal(expected, Parse("POST / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n").ContentLength);

    public static TheoryData<string, Http1ParseError, int> BadRequests => new()
    {
        // Framing (smuggling) defences.
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", Http1ParseError.ContentLengthWithTransferEncoding, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", Http1ParseError.ConflictingContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", Http1ParseError.ConflictingContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n", Http1ParseError.InvalidContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", Http1ParseError.InvalidContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", Http1ParseError.InvalidContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", Http1ParseError.InvalidContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n", Http1ParseError.InvalidContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", Http1ParseError.InvalidContentLength, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", Http1ParseError.InvalidTransferEncoding, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Http1ParseError.InvalidTransferEncoding, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", Http1ParseError.InvalidTransferEncoding, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", Http1ParseError.InvalidTransferEncoding, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", Http1ParseError.InvalidTransferEncoding, 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Http1ParseError.UnsupportedTransferCoding, 501 },
        { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", Http1ParseError.TransferEncodingInHttp10, 400 },

        // Field syntax.
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n", Http1ParseError.ObsoleteLineFolding, 400 },
        { "GET / HTTP/1.1\r\n Host: h\r\n\r\n", Http1ParseError.ObsoleteLineFolding, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n", Http1ParseError.InvalidHeaderValue, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", Http1ParseError.InvalidHeaderValue, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01\r\n\r\n", Http1ParseError.InvalidHeaderValue, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7f\r\n\r\n", Http1ParseError.InvalidHeaderValue, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n", Http1ParseError.InvalidHeaderName, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n", Http1ParseError.InvalidHeaderName, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX A: 1\r\n\r\n", Http1ParseError.InvalidHeaderName, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nNo colon here\r\n\r\n", Http1ParseError.InvalidHeaderLine, 400 },
        { "GET / HTTP/1.1\r\nHost : h\r\n\r\n", Http1ParseError.WhitespaceBeforeColon, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A\t: 1\r\n\r\n", Http1ParseError.WhitespaceBeforeColon, 400 },
        { "GET / HTTP/1.1\r\nHost: h\nX-A: 1\r\n\r\n", Http1ParseError.BareLineFeed, 400 },
        { "GET / HTTP/1.1\nHost: h\r\n\r\n", Http1ParseError.BareLineFeed, 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\n\n", Http1ParseError.BareLineFeed, 400 },
        { "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.BareLineFeed, 400 },

        // Host.
        { "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", Http1ParseError.MissingHost, 400 },
        { "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", Http1ParseError.MultipleHost, 400 },
        { "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", Http1ParseError.InvalidHost, 400 },

        // Host values the differential fuzz target found accepted against RFC 9112 3.2 (uri-host, RFC 3986 3.2.2).
        { "GET / HTTP/1.1\r\nHost: [\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: []\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: [v1.x]\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: a]b\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: %h\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: a:b:80\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", Http1ParseError.InvalidHost, 400 },
        { "GET http://[::1/x HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "CONNECT a:b:443 HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },

        // Request line.
        { "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestLine, 400 },
        { " GET / HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestLine, 400 },
        { "GET /\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestLine, 400 },
        { "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestLine, 400 },
        { "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidMethod, 400 },
        { "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", Http1ParseError.InvalidVersion, 400 },
        { "GET / http/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidVersion, 400 },
        { "GET / HTTP/1.10\r\nHost: h\r\n\r\n", Http1ParseError.InvalidVersion, 400 },
        { "GET / HTTP/2.0\r\nHost: h\r\n\r\n", Http1ParseError.UnsupportedVersion, 505 },
        { "GET / HTTP/0.9\r\nHost: h\r\n\r\n", Http1ParseError.UnsupportedVersion, 505 },
        { "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "GET /a\xe9 HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "GET * HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "GET http://u:p@h/x HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
        { "CONNECT h:80x HTTP/1.1\r\nHost: h\r\n\r\n", Http1ParseError.InvalidRequestTarget, 400 },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void TryParse_BadRequest_RejectedWithStatus(string request, Http1ParseError expected, int status)
    {
        byte[] data = Bytes(request);

        // Same verdict whole and split at every point: a smuggling defence must not depend on packet boundaries.
        for (int at = 0; at <= data.Length; at++)
        {
            var head = new Http1RequestHead();
            var reader = new SequenceReader<byte>(Split(data, at));
            Assert.False(head.TryParse(ref reader, out Http1ParseError error));
            Assert.Equal(expected, error);
            Assert.Equal(0, reader.Consumed);
        }

        Assert.Equal(status, expected.ToStatusCode());
        Assert.False(expected.ToFlag().IsEmpty);
    }

    [Fact]
    public void TryParse_HeaderSectionOverLimit_Returns431BeforeEndArrives()
    {
        var limits = new Http1Limits { MaxHeaderBytes = 1024 };
        string big = "X-Big: " + new string('a', 1100) + "\r\n";

        // Incomplete: rejected without waiting for the end of the head.
        var head = new Http1RequestHead(limits);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("GET / HTTP/1.1\r\nHost: h\r\n" + big)));
        Assert.False(head.TryParse(ref reader, out Http1ParseError error));
        Assert.Equal(Http1ParseError.HeadersTooLarge, error);
        Assert.Equal(431, error.ToStatusCode());

        // Complete.
        head = new Http1RequestHead(limits);
        reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("GET / HTTP/1.1\r\nHost: h\r\n" + big + "\r\n")));
        Assert.False(head.TryParse(ref reader, out error));
        Assert.Equal(Http1ParseError.HeadersTooLarge, error);
    }

    [Fact]
    public void TryParse_HeaderSectionExactlyAtLimit_Accepted()
    {
        string fields = "Host: h\r\nX-Pad: " + new string('p', 1024 - 9 - 9) + "\r\n";
        Assert.Equal(1024, fields.Length);
        var head = new Http1RequestHead(new Http1Limits { MaxHeaderBytes = 1024 });
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("GET / HTTP/1.1\r\n" + fields + "\r\n")));
        Assert.True(head.TryParse(ref reader, out _));
    }

    [Fact]
    public void TryParse_DefaultLimit64KiB_Returns431()
    {
        string big = "X-Big: " + new string('a', 65 * 1024) + "\r\n";
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("GET / HTTP/1.1\r\nHost: h\r\n" + big + "\r\n")));
        Assert.False(new Http1RequestHead().TryParse(ref reader, out Http1ParseError error));
        Assert.Equal(431, error.ToStatusCode());
    }

    [Fact]
    public void TryParse_TooManyHeaders_Returns431()
    {
        var sb = new System.Text.StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 10; i++) sb.Append($"X-{i}: v\r\n");
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(sb + "\r\n")));
        Assert.False(new Http1RequestHead(new Http1Limits { MaxHeaderCount = 10 }).TryParse(ref reader, out Http1ParseError error));
        Assert.Equal(Http1ParseError.TooManyHeaders, error);
        Assert.Equal(431, error.ToStatusCode());
    }

    [Fact]
    public void TryParse_TargetOverDefaultLimit_Returns414()
    {
        string target = "/" + new string('t', 8 * 1024);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes($"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n")));
        Assert.False(new Http1RequestHead().TryParse(ref reader, out Http1ParseError error));
        Assert.Equal(Http1ParseError.RequestTargetTooLong, error);
        Assert.Equal(414, error.ToStatusCode());
    }

    [Fact]
    public void TryParse_TargetAtDefaultLimit_Accepted()
    {
        string target = "/" + new string('t', (8 * 1024) - 1);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes($"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n")));
        Assert.True(new Http1RequestHead().TryParse(ref reader, out _));
    }

    [Fact]
    public void TryParse_EndlessRequestLine_Returns414WithoutEnd()
    {
        var head = new Http1RequestHead(new Http1Limits { MaxRequestTargetLength = 100 });
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("GET /" + new string('t', 2000))));
        Assert.False(head.TryParse(ref reader, out Http1ParseError error));
        Assert.Equal(Http1ParseError.RequestTargetTooLong, error);

        // Without a space it is not a request line at all.
        reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(new string('x', 2000))));
        Assert.False(head.TryParse(ref reader, out error));
        Assert.Equal(Http1ParseError.InvalidRequestLine, error);
    }

    [Fact]
    public void TryParse_TrickledByteByByte_ParsesOnceComplete()
    {
        byte[] data = Bytes("GET /trickle HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n");
        var head = new Http1RequestHead();
        for (int length = 1; length <= data.Length; length++)
        {
            // Each call sees the same unconsumed start plus one more byte, as from a PipeReader.
            var reader = new SequenceReader<byte>(Split(data[..length], length / 2));
            bool done = head.TryParse(ref reader, out Http1ParseError error);
            Assert.Equal(Http1ParseError.None, error);
            Assert.Equal(length == data.Length, done);
        }

        Assert.Equal("/trickle", Text(head.Target));
    }

    [Fact]
    public void TryParse_ReusedAfterReset_NoStateLeaks()
    {
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(
            "POST /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")));
        Assert.True(head.TryParse(ref reader, out _));
        head.Reset();
        reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("GET /b HTTP/1.1\r\nHost: b\r\n\r\n")));
        Assert.True(head.TryParse(ref reader, out _));
        Assert.False(head.ExpectContinue);
        Assert.False(head.IsChunked);
        Assert.Equal(Http1BodyFraming.None, head.BodyFraming);
        Assert.Equal(1, head.Fields.Length);
        head.Dispose();
    }

    private static Http1RequestHead Parse(string request)
    {
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(request)));
        Assert.True(head.TryParse(ref reader, out Http1ParseError error), error.ToString());
        return head;
    }

    private static string Describe(byte[] data)
    {
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));
        Assert.True(head.TryParse(ref reader, out Http1ParseError error), error.ToString());
        return HeadDescriber.Describe(head);
    }
}
