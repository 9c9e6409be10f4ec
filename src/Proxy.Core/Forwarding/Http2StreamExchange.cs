using System.Buffers;
using System.Net;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Runtime;
using Proxy.Tls;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// The per-request state of one stream an HTTP/2 client opened: its span, its attempts and the route it took (for
/// the access log), what an HTTP/1.1 upstream needs (a response head parser, a chunk decoder), and the timer of the
/// response-head timeout, for either kind of upstream. Streams on one connection run at once, so this cannot live
/// in the connection as it does for HTTP/1.1; it rides on the pooled stream object
/// (<see cref="Http2Stream.Attachment"/>) instead, made once per stream object and reused by every request that object
/// serves, so a request allocates none of it.
/// </summary>
/// <remarks>
/// The same wait is what a client that goes away ends (RST_STREAM, or its connection's end): the downstream read loop
/// reports it (<see cref="OnDownstreamGone"/>) and, off its lock, the exchange's <see cref="ResponseTimeout"/> cancels
/// the upstream side being waited for, as the timeout would (the upstream stream is reset with CANCEL, the HTTP/1.1
/// read cancelled), so the forwarder wakes at once and records the request (<see cref="DownstreamGone"/>).
/// </remarks>
internal sealed class Http2StreamExchange : HttpExchange
{
    private Http2Stream _stream = null!;
    private Http2ServerConnection _connection = null!;

    private Http1ResponseHead? _responseHead;
    private ChunkedDecoder? _responseChunks;

    /// <summary>The proxy's span for this request.</summary>
    public RequestTrace Trace;

    /// <summary>Attempts made upstream so far (1 + retries).</summary>
    public int Attempts { get; private set; }

    /// <summary>The endpoint of the latest attempt.</summary>
    public Endpoint? Endpoint { get; private set; }

    /// <summary>The tries of this stream's requests on HTTP/2 upstreams (h2 -> h2), made on first use.</summary>
    public Http2ServerConnection.Http2UpstreamAttempts Http2Attempts => _http2Attempts ??= new();

    private Http2ServerConnection.Http2UpstreamAttempts? _http2Attempts;

    /// <summary>The tries of this stream's requests on HTTP/1.1 upstreams (h2 -> h1), made on first use.</summary>
    public Http2ServerConnection.Http1UpstreamAttempts Http1Attempts => _http1Attempts ??= new();

    private Http2ServerConnection.Http1UpstreamAttempts? _http1Attempts;

    /// <summary>The HTTP/1.1 upstream's response head, reset by each parse.</summary>
    public Http1ResponseHead ResponseHead => _responseHead ??= new Http1ResponseHead(Http1Limits.Default);

    /// <summary>The decoder of a chunked HTTP/1.1 response body; reset before use.</summary>
    public ChunkedDecoder ResponseChunks => _responseChunks ??= new ChunkedDecoder(Http1Limits.Default);

    /// <summary>
    /// The wait for the upstream's response head, of either kind of upstream, with its route / per-try timeout and
    /// ended as well by the client's going away: reused by every request this object serves, as Http1ServerConnection
    /// reuses its own across its requests.
    /// </summary>
    public ResponseHeadTimeout ResponseTimeout { get; } = new();

    /// <summary>The stream's state object: the one it already carries, or a new one attached to it.</summary>
    public static Http2StreamExchange Of(Http2Stream stream)
    {
        if (stream.Attachment is Http2StreamExchange exchange)
        {
            return exchange;
        }

        exchange = new Http2StreamExchange();
        stream.Attachment = exchange;
        return exchange;
    }

    /// <summary>Counts an attempt on <paramref name="endpoint"/>.</summary>
    public void OnAttempt(Endpoint endpoint)
    {
        Attempts++;
        Endpoint = endpoint;
    }

    /// <summary>True when the client reset the stream (or its connection ended) during this request.</summary>
    public bool DownstreamGone => ResponseTimeout.DownstreamGone;

    /// <summary>Starts a request on this object (on the downstream read loop, before it reads another frame).</summary>
    public void Begin(Http2Stream stream, Http2ServerConnection connection, HttpRouting routing, long started, bool grpc, IPAddress? clientAddress, bool downstreamTls, PeerIdentity? peer)
    {
        ResponseTimeout.Begin();
        _stream = stream;
        _connection = connection;
        Routing = routing;
        Started = started;
        IsGrpc = grpc;
        ClientAddress = clientAddress;
        DownstreamTls = downstreamTls;
        Peer = peer;
        RbacConnection = connection.RbacConnection;
    }

    public override ReadOnlySpan<byte> Host => new Http2RequestView(_stream.ReceivedHeaders).Host;

    public override ReadOnlySpan<byte> Path => new Http2RequestView(_stream.ReceivedHeaders).Path;

    public override ReadOnlySpan<byte> Target => _stream.ReceivedHeaders.Path;

    public override ReadOnlySpan<byte> Method => _stream.ReceivedHeaders.Method;

    public override bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value) => _stream.ReceivedHeaders.TryGetValue(lowerName, out value);

    /// <summary>Bodiless as HTTP/1.1 judges it from the head: the HEADERS frame ended the stream.</summary>
    public override bool HasBody => !(_stream.EndStreamReceived && _stream.ReceivedBodyBytes == 0 && !_stream.HasTrailers);

    public override string Protocol => "HTTP/2";

    public override ReadOnlySpan<byte> ClientAddressText => _connection.ClientAddressText;

    /// <summary>The stream's x-request-id: the client's, or the one added to its fields on arrival (AddRequestIdIfMissing).</summary>
    public override ReadOnlySpan<byte> RequestId => _stream.ReceivedHeaders.TryGetValue("x-request-id"u8, out var id) ? id : default;

    public override int HeadSizeHint => (int)Math.Min(_stream.ReceivedHeaders.Size, 64 * 1024);

    public override ValueTask AnswerAsync(int status, ResponseFlag flag) => _connection.AnswerAsync(_stream, Metrics, status, flag, IsGrpc, Started);

    public override ValueTask AnswerAsync(Routing.LocalResponse response) => _connection.AnswerLocallyAsync(_stream, this, response);

    public override bool ClientGone => _connection.ClientGone(_stream);

    public override void RecordClientGone() => _connection.RecordDownstreamDisconnect(_stream, Metrics, IsGrpc, Started);

    public override void WriteHttp1CopyHead(IBufferWriter<byte> output) => _connection.WriteHttp1CopyHead(output, _stream, this);

    public override void WriteHttp2CopyHeaders(Http2HeaderList target, ReadOnlySpan<byte> scheme) => _connection.WriteHttp2CopyHeaders(target, _stream, this, scheme);

    /// <summary>
    /// Downstream read loop, under its connection's lock: the client reset the stream or its connection ended. The
    /// wait for the upstream's response head is ended off that lock (<see cref="ResponseHeadTimeout.OnDownstreamGone"/>).
    /// </summary>
    public void OnDownstreamGone() => ResponseTimeout.OnDownstreamGone();

    /// <summary>Forgets the finished request, so an idle pooled stream keeps no endpoint or snapshot alive.</summary>
    public void Clear()
    {
        ClearRequest();
        _stream = null!;
        _connection = null!;
        Peer = null;
        RbacConnection = null;
        ClientAddress = null;
        Attempts = 0;
        Endpoint = null;
        Trace = default;
    }
}
