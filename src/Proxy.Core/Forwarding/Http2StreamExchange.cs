using Proxy.Http.Http1;
using Proxy.Http.Http2;
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
internal sealed class Http2StreamExchange
{
    private Http1ResponseHead? _responseHead;
    private ChunkedDecoder? _responseChunks;

    /// <summary>The proxy's span for this request.</summary>
    public RequestTrace Trace;

    /// <summary>Attempts made upstream so far (1 + retries).</summary>
    public int Attempts { get; private set; }

    /// <summary>The endpoint of the latest attempt.</summary>
    public Endpoint? Endpoint { get; private set; }

    /// <summary>The matched route's name, or null before routing and when none matched.</summary>
    public string? Route { get; set; }

    /// <summary>The chosen cluster's name, or null.</summary>
    public string? Cluster { get; set; }

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
    public void Begin() => ResponseTimeout.Begin();

    /// <summary>
    /// Downstream read loop, under its connection's lock: the client reset the stream or its connection ended. The
    /// wait for the upstream's response head is ended off that lock (<see cref="ResponseHeadTimeout.OnDownstreamGone"/>).
    /// </summary>
    public void OnDownstreamGone() => ResponseTimeout.OnDownstreamGone();

    /// <summary>Forgets the finished request, so an idle pooled stream keeps no endpoint or snapshot alive.</summary>
    public void Clear()
    {
        Attempts = 0;
        Endpoint = null;
        Route = null;
        Cluster = null;
        Trace = default;
    }
}
