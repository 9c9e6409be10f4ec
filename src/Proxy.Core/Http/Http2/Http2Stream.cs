using System.IO.Pipelines;
using Proxy.Buffers;

namespace Proxy.Http.Http2;

/// <summary>
/// One HTTP/2 stream on either side. The connection's read loop fills <see cref="ReceivedHeaders"/>,
/// <see cref="ReceivedTrailers"/> and the body pipe (<see cref="Input"/>); the stream's consumer (a forwarder)
/// reads them and sends through the connection. State and windows change only under the connection lock.
/// </summary>
public sealed class Http2Stream : IHttp2InterimResponseSink
{
    private static readonly PipeOptions s_bodyPipe = new(
        pool: PinnedBlockMemoryPool.Shared,
        readerScheduler: PipeScheduler.ThreadPool, // consumers never run inside the read loop
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0,                  // flow control bounds what is buffered, not the pipe
        minimumSegmentSize: PinnedBlockMemoryPool.BlockSize,
        useSynchronizationContext: false);

    private readonly Pipe _body = new(s_bodyPipe);
    private readonly TaskCompletionSource<bool> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<bool>? _windowWaiter;

    internal Http2Stream(Http2Connection connection, int id, int sendWindow, int receiveWindow)
    {
        Connection = connection;
        Id = id;
        SendWindow = new Http2FlowWindow(sendWindow);
        ReceiveWindow = new Http2FlowWindow(receiveWindow);
    }

    /// <summary>The connection the stream belongs to.</summary>
    public Http2Connection Connection { get; }

    /// <summary>Stream identifier.</summary>
    public int Id { get; }

    /// <summary>RFC 9113 5.1 state.</summary>
    public Http2StreamState State { get; internal set; }

    /// <summary>Request headers (server side) or final response headers (client side).</summary>
    public Http2HeaderList ReceivedHeaders { get; } = new();

    /// <summary>Trailers the peer sent, valid once <see cref="HasTrailers"/>.</summary>
    public Http2HeaderList ReceivedTrailers { get; } = new();

    /// <summary>Scratch list a forwarder stages outgoing headers or trailers in.</summary>
    public Http2HeaderList Outgoing { get; } = new();

    /// <summary>True when the peer ended its side with a trailer block.</summary>
    public bool HasTrailers { get; internal set; }

    /// <summary>The peer's body; completes at END_STREAM, or with <see cref="Http2StreamResetException"/> on a reset.</summary>
    public PipeReader Input => _body.Reader;

    /// <summary>True once the peer sent END_STREAM.</summary>
    public bool EndStreamReceived { get; internal set; }

    /// <summary>True once this side sent END_STREAM.</summary>
    public bool EndStreamSent { get; internal set; }

    /// <summary>The RST_STREAM code when the stream was reset by either side; null otherwise.</summary>
    public Http2ErrorCode? ResetCode { get; internal set; }

    /// <summary>True when the peer (not this side) reset the stream.</summary>
    public bool ResetByPeer { get; internal set; }

    /// <summary>Body bytes received (DATA payload without padding).</summary>
    public long ReceivedBodyBytes { get; internal set; }

    /// <summary>Body bytes sent.</summary>
    public long SentBodyBytes { get; internal set; }

    /// <summary>Client side: completes with true when the final response headers arrived, false on a reset.</summary>
    public Task<bool> HeadersReceived => _headers.Task;

    /// <summary>Whether a request block ended the stream (no body follows).</summary>
    public bool IsReceiveComplete => EndStreamReceived;

    /// <summary>Received body bytes not yet handed back to the connection window by <see cref="Http2Connection.OnDataConsumed"/>.</summary>
    internal int PendingCredit;

    /// <summary>Client side: the final (non-1xx) response headers arrived.</summary>
    internal bool FinalHeadersReceived;

    /// <summary>
    /// The content-length the peer declared for the content of its message, or -1 when it declared none or the
    /// message has no content (HEAD responses, 204, 304): checked against the DATA received (RFC 9113 8.1.1).
    /// </summary>
    internal long DeclaredContentLength = Http2ContentLength.Absent;

    /// <summary>Client side: the request was HEAD, so the response has no content whatever its content-length.</summary>
    internal bool RequestIsHead;

    /// <summary>Client side: where interim (1xx) responses go; null drops them. Set when the stream opens.</summary>
    internal IHttp2InterimResponseSink? InterimSink;

    internal Http2FlowWindow SendWindow;
    internal Http2FlowWindow ReceiveWindow;

    internal PipeWriter BodyWriter => _body.Writer;

    internal void SignalHeaders(bool received) => _headers.TrySetResult(received);

    /// <summary>Called under the connection lock when the stream cannot send: returns the task to await outside it.</summary>
    internal Task<bool> PrepareWindowWait()
    {
        _windowWaiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _windowWaiter.Task;
    }

    /// <summary>Called under the connection lock when window opened or the stream ended.</summary>
    internal void WakeWindowWaiter()
    {
        TaskCompletionSource<bool>? waiter = _windowWaiter;
        _windowWaiter = null;
        waiter?.TrySetResult(true);
    }

    /// <summary>Completes the body pipe and wakes waiters after a reset or the connection's end.</summary>
    internal void Abort(Http2ErrorCode code)
    {
        if (!EndStreamReceived)
        {
            _body.Writer.Complete(new Http2StreamResetException(code));
        }

        _headers.TrySetResult(false);
        WakeWindowWaiter();
    }

    /// <summary>
    /// Server side: relays an interim response that arrived on another stream (the upstream one this stream is
    /// forwarded to) as a HEADERS block without END_STREAM (RFC 9113 8.1).
    /// </summary>
    void IHttp2InterimResponseSink.OnInterimResponse(Http2Stream stream, Http2HeaderList headers) =>
        Connection.RelayInterimResponse(this, headers);

    public override string ToString() => $"stream {Id} {State}";
}
