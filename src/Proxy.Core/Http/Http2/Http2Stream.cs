using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace Proxy.Http.Http2;

/// <summary>
/// One HTTP/2 stream on either side. The connection's read loop fills <see cref="ReceivedHeaders"/>,
/// <see cref="ReceivedTrailers"/> and the body (<see cref="Input"/>); the stream's consumer (a forwarder)
/// reads them and sends through the connection. State and windows change only under the connection lock.
/// </summary>
/// <remarks>
/// Streams are pooled (<see cref="Http2StreamPool"/>): a stream object, its body buffer and its header lists serve
/// stream after stream, so a request costs no allocation in steady state. A stream goes back to the pool when its
/// consumer calls <see cref="Http2Connection.ReleaseStreamAsync"/>, which also closes it on the connection; the
/// consumer must not touch it afterwards. The read loop, which may still hold a reference while it decodes a late
/// header block, checks <see cref="Generation"/> under the lock before applying anything.
/// </remarks>
public sealed class Http2Stream : IValueTaskSource<bool>, IThreadPoolWorkItem, IHttp2InterimResponseSink
{
    private readonly Http2StreamBody _body = new();
    private ManualResetValueTaskSourceCore<bool> _headers;
    private bool _headersSignalled;
    private bool _headersAwaiting; // a continuation is registered and has not called GetResult
    private bool _headersQueued;   // the signal is queued to the read batch or the thread pool (see Execute)
    private bool _headersResult;
    private TaskCompletionSource<bool>? _windowWaiter;
    private Http2HeaderList? _received; // the decoded request or final response block; back to the list pool at release
    private Http2HeaderList? _trailers; // likewise for a trailer block (gRPC)
    private Http2HeaderList? _outgoing; // made on first use, then kept with the pooled object

    internal Http2Stream()
    {
        // A waiter that registers while the read loop signals must not run inside the read loop (under its lock).
        _headers.RunContinuationsAsynchronously = true;
        Connection = null!;
    }

    /// <summary>The connection the stream belongs to.</summary>
    public Http2Connection Connection { get; private set; }

    /// <summary>Stream identifier.</summary>
    public int Id { get; private set; }

    /// <summary>RFC 9113 5.1 state.</summary>
    public Http2StreamState State { get; internal set; }

    /// <summary>Request headers (server side) or final response headers (client side).</summary>
    public Http2HeaderList ReceivedHeaders => _received ?? Http2HeaderList.Empty;

    /// <summary>Trailers the peer sent, valid once <see cref="HasTrailers"/>.</summary>
    public Http2HeaderList ReceivedTrailers => _trailers ?? Http2HeaderList.Empty;

    /// <summary>
    /// Scratch list a forwarder stages outgoing headers or trailers in; callers reset it first (it is not reset when
    /// the stream starts: most streams never use it, and touching it there cost a cache miss per stream).
    /// </summary>
    public Http2HeaderList Outgoing => _outgoing ??= new Http2HeaderList();

    /// <summary>True when the peer ended its side with a trailer block.</summary>
    public bool HasTrailers { get; internal set; }

    /// <summary>The peer's body; completes at END_STREAM, or with <see cref="Http2StreamResetException"/> on a reset.</summary>
    public PipeReader Input => _body;

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

    /// <summary>
    /// Client side: completes with true when the final response headers arrived, false on a reset. Await it once,
    /// to the end: a waiter that gives up keeps the object from being recycled. For a timeout, reset the stream when
    /// it expires (<see cref="Http2Connection.TryCancelBeforeResponse"/>), which ends the wait with false; do not
    /// <c>AsTask()</c> it and wait with a timeout.
    /// </summary>
    public ValueTask<bool> HeadersReceived => new(this, _headers.Version);

    /// <summary>Whether a request block ended the stream (no body follows).</summary>
    public bool IsReceiveComplete => EndStreamReceived;

    /// <summary>
    /// An object the stream's consumer keeps with it (a forwarder's per-request state). Kept when the pooled object
    /// is recycled, so the consumer makes one per stream object rather than one per stream; the codec never reads it.
    /// </summary>
    public object? Attachment { get; set; }

    /// <summary>Received body bytes not yet handed back to the connection window by <see cref="Http2Connection.OnDataConsumed"/>.</summary>
    internal int PendingCredit;

    /// <summary>Client side: the final (non-1xx) response headers arrived.</summary>
    internal bool FinalHeadersReceived;

    /// <summary>Bumped each time the pooled object starts a new stream: a reference taken earlier is stale.</summary>
    internal int Generation;

    /// <summary>True once the consumer released the stream (guards against a second release).</summary>
    internal bool Released;

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

    internal Http2StreamBody Body => _body;

    /// <summary>Makes this (new or pooled) object stream <paramref name="id"/> of <paramref name="connection"/>.</summary>
    internal void Start(Http2Connection connection, int id, int sendWindow, int receiveWindow)
    {
        Generation++;
        Connection = connection;
        Id = id;
        State = Http2StreamState.Open;
        SendWindow = new Http2FlowWindow(sendWindow);
        ReceiveWindow = new Http2FlowWindow(receiveWindow);
        HasTrailers = false;
        EndStreamReceived = false;
        EndStreamSent = false;
        ResetCode = null;
        ResetByPeer = false;
        ReceivedBodyBytes = 0;
        SentBodyBytes = 0;
        PendingCredit = 0;
        FinalHeadersReceived = false;
        Released = false;
        DeclaredContentLength = Http2ContentLength.Absent;
        RequestIsHead = false;
        InterimSink = null;
        _headersSignalled = false;
        _headersAwaiting = false;
        _headersQueued = false;
        _windowWaiter = null;
    }

    /// <summary>Readies a released stream for the pool: both ends of the body are complete by then.</summary>
    internal bool TryRecycle()
    {
        if (Volatile.Read(ref _headersAwaiting) || Volatile.Read(ref _headersQueued))
        {
            // A waiter registered on HeadersReceived has not taken its result yet: its continuation still holds this
            // version, so the object is never reused. Nothing in the proxy leaves one now (its forwarders await to the
            // end and time out by resetting the stream); a safety net for a consumer that gives up on the wait.
            return false;
        }

        if (!_body.TryReset())
        {
            // An end of the body still open, or a read pending or queued (its continuation holds the object):
            // never reuse it, let the GC have it.
            return false;
        }

        _headers.Reset();
        _headers.RunContinuationsAsynchronously = true;
        Connection = null!;
        InterimSink = null;

        // The received lists go back to their own pool rather than wait in this object: the next block decoded on
        // this thread lands in the list read last here, which is still in the cache.
        if (_received is { } received)
        {
            _received = null;
            Http2StreamPool.ReturnList(received);
        }

        if (_trailers is { } trailers)
        {
            _trailers = null;
            Http2StreamPool.ReturnList(trailers);
        }

        return true;
    }

    /// <summary>
    /// Installs a decoded block (the read loop decodes into its own scratch list outside the lock, then swaps it in
    /// under the lock): <paramref name="decoded"/> becomes the stream's list and receives the old one back, or a
    /// pooled one.
    /// </summary>
    internal void SwapReceived(bool trailers, ref Http2HeaderList decoded)
    {
        ref Http2HeaderList? slot = ref trailers ? ref _trailers : ref _received;
        Http2HeaderList? old = slot;
        slot = decoded;
        decoded = old ?? Http2StreamPool.RentList();
    }

    /// <summary>
    /// Under the connection lock: completes <see cref="HeadersReceived"/> once. A waiting consumer is resumed on the
    /// thread pool by queuing the stream itself (no allocation, unlike the completion source's own scheduling).
    /// </summary>
    internal void SignalHeaders(bool received)
    {
        if (_headersSignalled)
        {
            return;
        }

        _headersSignalled = true;
        if (Volatile.Read(ref _headersAwaiting))
        {
            _headersResult = received;
            Volatile.Write(ref _headersQueued, true);
            Proxy.Async.ReadBatch.Schedule(this);
        }
        else
        {
            _headers.SetResult(received); // nobody waits yet (or one registering right now is scheduled by the core)
        }
    }

    /// <summary>Runs the queued header signal: the waiting consumer continues inline, on this pool thread.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        bool received = _headersResult;
        _headers.RunContinuationsAsynchronously = false;
        Volatile.Write(ref _headersQueued, false); // the waiter cannot release the stream before it resumes below
        _headers.SetResult(received);
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        bool result = _headers.GetResult(token);
        Volatile.Write(ref _headersAwaiting, false);
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _headers.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Volatile.Write(ref _headersAwaiting, true);
        _headers.OnCompleted(continuation, state, token, flags);
    }

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

    /// <summary>Completes the body and wakes waiters after a reset or the connection's end (under the lock).</summary>
    internal void Abort(Http2ErrorCode code)
    {
        if (!EndStreamReceived)
        {
            _body.CompleteWriter(new Http2StreamResetException(code));
        }

        SignalHeaders(false);
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
