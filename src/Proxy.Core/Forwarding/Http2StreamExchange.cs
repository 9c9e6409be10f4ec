using System.IO.Pipelines;
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
/// reports it (<see cref="OnDownstreamGone"/>) and, off its lock, this cancels the upstream side being waited for, as
/// the timeout would (the upstream stream is reset with CANCEL, the HTTP/1.1 read cancelled), so the forwarder wakes
/// at once and records the request (<see cref="DownstreamGone"/>).
/// </remarks>
internal sealed class Http2StreamExchange : IThreadPoolWorkItem
{
    private const long MaxTimerDue = 0xFFFFFFFE; // the largest due time a Timer takes, in milliseconds (about 49 days)

    private Http1ResponseHead? _responseHead;
    private ChunkedDecoder? _responseChunks;

    // The wait for the response head: touched by the timer callback and the downstream-gone work item as well as the
    // stream's handler, under _timeoutLock.
    private readonly Lock _timeoutLock = new();
    private Timer? _timer; // made by the first request on this object whose route has a timeout
    // What the timer or the client's going away ends: an HTTP/1.1 upstream's read (a PipeReader, cancelled) or an
    // upstream Http2Stream (reset); null when disarmed. A stream's connection and generation are taken when armed: a
    // released stream forgets its connection, and the pooled object may serve another stream later.
    private object? _awaited;
    private Http2Connection? _awaitedConnection;
    private int _awaitedGeneration;
    private long _deadline;
    private bool _timing; // the wait has a timeout
    private bool _timedOut;
    private int _request; // numbers the requests this object serves (Begin), so a late report cannot touch a later one
    private bool _downstreamGone;

    // Written by the downstream read loop, under the downstream connection's lock (where _timeoutLock is not taken).
    private int _goneRequest;

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
    public bool DownstreamGone => Volatile.Read(ref _downstreamGone);

    /// <summary>Starts a request on this object (on the downstream read loop, before it reads another frame).</summary>
    public void Begin()
    {
        lock (_timeoutLock)
        {
            _request++;
            _downstreamGone = false;
        }
    }

    /// <summary>
    /// Downstream read loop, under its connection's lock: the client reset the stream or its connection ended. The
    /// upstream side is cancelled off that lock (<see cref="IThreadPoolWorkItem.Execute"/>, at the end of the read
    /// batch), since cancelling takes the upstream connection's lock, which is held while an interim response is
    /// relayed downstream.
    /// </summary>
    public void OnDownstreamGone()
    {
        Volatile.Write(ref _goneRequest, Volatile.Read(ref _request));
        Proxy.Async.ReadBatch.Schedule(this);
    }

    /// <summary>Forgets the finished request, so an idle pooled stream keeps no endpoint or snapshot alive.</summary>
    public void Clear()
    {
        Attempts = 0;
        Endpoint = null;
        Route = null;
        Cluster = null;
        Trace = default;
    }

    /// <summary>
    /// Starts a wait for the response head on <paramref name="input"/> (an HTTP/1.1 upstream), with its timeout when
    /// there is one: when it fires, the pending read is cancelled and <see cref="DisarmTimeout"/> reports it. A client
    /// that goes away cancels the read too (<see cref="DownstreamGone"/> tells). The timer is reused from request to
    /// request, as Http1ServerConnection reuses its own, so arming allocates nothing.
    /// </summary>
    public void ArmTimeout(PipeReader input, TimeSpan? timeout) => Arm(input, null, 0, timeout);

    /// <summary>
    /// Starts the timeout of a wait for <paramref name="upstream"/>'s final response headers (an HTTP/2 upstream):
    /// when it fires first, the stream is reset with CANCEL, which completes <see cref="Http2Stream.HeadersReceived"/>
    /// with false, and <see cref="DisarmTimeout"/> reports the timeout. Headers that arrive at the same moment either
    /// win (the reset is not sent, the wait completes with true, no timeout) or are dropped (the reset went first):
    /// the connection decides under its lock (<see cref="Http2Connection.TryCancelBeforeResponse"/>). The waiter always
    /// takes its result, so the stream can be recycled, and the wait allocates nothing (no Task, no timer per request).
    /// A client that goes away resets the stream the same way, with or without a timeout.
    /// </summary>
    public void ArmTimeout(Http2Stream upstream, TimeSpan? timeout) => Arm(upstream, upstream.Connection, upstream.Generation, timeout);

    private void Arm(object awaited, Http2Connection? connection, int generation, TimeSpan? timeout)
    {
        long milliseconds = timeout is { } t ? (long)Math.Ceiling(t.TotalMilliseconds) : 0;
        lock (_timeoutLock)
        {
            _awaited = awaited;
            _awaitedConnection = connection;
            _awaitedGeneration = generation;
            _timedOut = false;
            _timing = timeout is not null;
            _deadline = Environment.TickCount64 + milliseconds;
            if (_downstreamGone)
            {
                CancelAwaitedLocked(); // the client left before the request was sent: the wait ends at once
            }
        }

        if (timeout is not null)
        {
            _timer ??= new Timer(static state => ((Http2StreamExchange)state!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
            _timer.Change(TimerDue(milliseconds), Timeout.Infinite);
        }
    }

    /// <summary>
    /// A due time the timer takes: a deadline further off than it can wait (about 49 days; a gRPC client may ask for
    /// 99999999H) is approached in steps, the callback setting the timer again until the deadline has passed.
    /// </summary>
    private static long TimerDue(long milliseconds) => Math.Min(milliseconds, MaxTimerDue);

    /// <summary>
    /// Ends the wait started by <see cref="ArmTimeout(PipeReader, TimeSpan?)"/> or
    /// <see cref="ArmTimeout(Http2Stream, TimeSpan?)"/>; true when the timeout fired first. Once this returns, the
    /// timer no longer touches what it was armed on, so the caller may release it.
    /// </summary>
    public bool DisarmTimeout()
    {
        bool timedOut, timing;
        lock (_timeoutLock)
        {
            if (_awaited is null)
            {
                return false; // not armed
            }

            _awaited = null;
            _awaitedConnection = null;
            timedOut = _timedOut;
            timing = _timing;
            _timing = false;
        }

        if (timing)
        {
            _timer!.Change(Timeout.Infinite, Timeout.Infinite);
        }

        return timedOut;
    }

    private void OnTimer()
    {
        lock (_timeoutLock)
        {
            if (_awaited is null || _timedOut || !_timing)
            {
                return; // disarmed meanwhile, already fired, or a wait without a timeout
            }

            // A callback that was already on its way when an earlier wait was disarmed may run during a later one
            // (on this request or the next the object serves): the deadline tells, and the timer is set again.
            long left = _deadline - Environment.TickCount64;
            if (left > 0)
            {
                _timer!.Change(TimerDue(left), Timeout.Infinite);
                return;
            }

            // Under the lock, so the cancellation cannot land on a read (or a stream) after DisarmTimeout.
            if (_awaited is Http2Stream upstream)
            {
                // False when the final headers arrived first (or the stream ended otherwise): they win, no timeout.
                _timedOut = _awaitedConnection!.TryCancelBeforeResponse(upstream, _awaitedGeneration);
            }
            else
            {
                _timedOut = true;
                ((PipeReader)_awaited).CancelPendingRead();
            }
        }
    }

    /// <summary>
    /// The work <see cref="OnDownstreamGone"/> scheduled: marks the request and ends the wait in progress, under the
    /// lock, so the cancellation cannot land on a read or a stream after <see cref="DisarmTimeout"/>.
    /// </summary>
    void IThreadPoolWorkItem.Execute()
    {
        lock (_timeoutLock)
        {
            if (Volatile.Read(ref _goneRequest) != _request)
            {
                return; // a report about an earlier request that arrived late: this object serves another one now
            }

            _downstreamGone = true;
            CancelAwaitedLocked();
        }
    }

    // For a client that went away: the upstream stream is reset with CANCEL unless its headers are in (the forwarder
    // then sees DownstreamGone and resets it itself), the HTTP/1.1 read is cancelled. Not a timeout.
    private void CancelAwaitedLocked()
    {
        switch (_awaited)
        {
            case Http2Stream upstream:
                _awaitedConnection!.TryCancelBeforeResponse(upstream, _awaitedGeneration);
                break;
            case PipeReader input:
                input.CancelPendingRead();
                break;
        }
    }
}
