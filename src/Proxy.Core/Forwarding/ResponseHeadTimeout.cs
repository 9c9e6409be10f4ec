using System.IO.Pipelines;
using Proxy.Http.Http2;

namespace Proxy.Forwarding;

/// <summary>
/// The route or per-try timeout of a wait for an upstream's response head, on one reused timer: armed and disarmed
/// around each wait, so a timed wait allocates nothing (no Task, no timer per request). It belongs to something that
/// waits for one response at a time and lives across requests: a downstream HTTP/2 stream object
/// (<see cref="Http2StreamExchange"/>) or a downstream HTTP/1.1 connection.
/// </summary>
/// <remarks>
/// The same wait is what a client that goes away ends (an HTTP/2 client's RST_STREAM, or its connection's end): its
/// owner reports it (<see cref="OnDownstreamGone"/>) and, off the downstream lock, this cancels the upstream side being
/// waited for, as the timeout would (the upstream stream is reset with CANCEL, the HTTP/1.1 read cancelled), so the
/// forwarder wakes at once and records the request (<see cref="DownstreamGone"/>). For that the wait is armed with or
/// without a timeout (the timer only with one), and the owner numbers its requests (<see cref="Begin"/>).
/// </remarks>
internal sealed class ResponseHeadTimeout : IDisposable, IThreadPoolWorkItem
{
    private const long MaxTimerDue = 0xFFFFFFFE; // the largest due time a Timer takes, in milliseconds (about 49 days)

    private readonly TimeProvider _time;

    // Touched by the timer callback and the downstream-gone work item as well as the waiter, under _lock.
    private readonly Lock _lock = new();
    private ITimer? _timer; // made by the first wait that has a timeout
    // What the timer or the client's going away ends: an HTTP/1.1 upstream's read (a PipeReader, cancelled) or an
    // upstream Http2Stream (reset); null when disarmed. A stream's connection and generation are taken when armed: a
    // released stream forgets its connection, and the pooled object may serve another stream later.
    private object? _awaited;
    private Http2Connection? _awaitedConnection;
    private int _awaitedGeneration;
    private long _armedAt; // the clock's timestamp when the wait began
    private long _timeoutMilliseconds;
    private bool _timing; // the wait has a timeout
    private bool _timedOut;
    private int _request; // numbers the requests the owner serves (Begin), so a late report cannot touch a later one
    private bool _downstreamGone;

    // Written by the downstream read loop, under the downstream connection's lock (where _lock is not taken).
    private int _goneRequest;

    /// <param name="time">The clock and the timer; the system's unless a test scripts them.</param>
    public ResponseHeadTimeout(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>True when the client reset the stream (or its connection ended) during this request.</summary>
    public bool DownstreamGone => Volatile.Read(ref _downstreamGone);

    /// <summary>Starts a request (on the downstream read loop, before it reads another frame).</summary>
    public void Begin()
    {
        lock (_lock)
        {
            _request++;
            _downstreamGone = false;
        }
    }

    /// <summary>
    /// Downstream read loop, under its connection's lock (or an HTTP/1.1 client's watch, under none): the client reset
    /// the stream or its connection ended. The
    /// upstream side is cancelled off that lock (<see cref="IThreadPoolWorkItem.Execute"/>, at the end of the read
    /// batch), since cancelling takes the upstream connection's lock, which is held while an interim response is
    /// relayed downstream.
    /// </summary>
    public void OnDownstreamGone()
    {
        Volatile.Write(ref _goneRequest, Volatile.Read(ref _request));
        Proxy.Async.ReadBatch.Schedule(this);
    }

    /// <summary>
    /// Starts a wait for the response head on <paramref name="input"/> (an HTTP/1.1 upstream), with its timeout when
    /// there is one: when it fires, the pending read is cancelled and <see cref="Disarm"/> reports it. A client that
    /// goes away cancels the read too (<see cref="DownstreamGone"/> tells).
    /// </summary>
    public void Arm(PipeReader input, TimeSpan? timeout) => Arm(input, null, 0, timeout);

    /// <summary>
    /// Starts a wait for <paramref name="upstream"/>'s final response headers (an HTTP/2 upstream), with its timeout
    /// when there is one: when it fires first, the stream is reset with CANCEL, which completes
    /// <see cref="Http2Stream.HeadersReceived"/> with false, and <see cref="Disarm"/> reports the timeout. Headers that
    /// arrive at the same moment either win (the reset is not sent, the wait completes with true, no timeout) or are
    /// dropped (the reset went first): the connection decides under its lock
    /// (<see cref="Http2Connection.TryCancelBeforeResponse"/>). After the reset no header block of the stream, interim
    /// ones included, is delivered, so the 504 or the retry follows it. The waiter always takes its result, so the
    /// stream can be recycled. A client that goes away resets the stream the same way, with or without a timeout.
    /// </summary>
    public void Arm(Http2Stream upstream, TimeSpan? timeout) => Arm(upstream, upstream.Connection, upstream.Generation, timeout);

    private void Arm(object awaited, Http2Connection? connection, int generation, TimeSpan? timeout)
    {
        long milliseconds = timeout is { } t ? (long)Math.Ceiling(t.TotalMilliseconds) : 0;
        PipeReader? read = null;
        lock (_lock)
        {
            _awaited = awaited;
            _awaitedConnection = connection;
            _awaitedGeneration = generation;
            _timedOut = false;
            _timing = timeout is not null;
            _armedAt = _time.GetTimestamp();
            _timeoutMilliseconds = milliseconds;
            if (_downstreamGone)
            {
                CancelAwaitedLocked(out read); // the client left before the request was sent: the wait ends at once
            }
        }

        read?.CancelPendingRead(); // not begun yet: its first read ends at once

        if (timeout is not null)
        {
            // Most owners never see a route with a timeout: the timer is made on first use, then reused.
            _timer ??= _time.CreateTimer(static state => ((ResponseHeadTimeout)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(TimerDue(milliseconds), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// A due time the timer takes: a deadline further off than it can wait (about 49 days; a gRPC client may ask for
    /// 99999999H) is approached in steps, the callback setting the timer again until the deadline has passed.
    /// </summary>
    private static TimeSpan TimerDue(long milliseconds) => TimeSpan.FromMilliseconds(Math.Min(milliseconds, MaxTimerDue));

    /// <summary>
    /// Ends the wait started by <see cref="Arm(PipeReader, TimeSpan?)"/> or <see cref="Arm(Http2Stream, TimeSpan?)"/>;
    /// true when the timeout fired first, false when it did not (the client's going away is not a timeout) or nothing
    /// was armed. Once this returns, neither the timer nor the client's going away touches what it was armed on, so
    /// the caller may release it; except an HTTP/1.1 read whose cancellation was decided (this returned true, or
    /// <see cref="DownstreamGone"/> is set), which may still be cancelled: the caller closes that connection.
    /// </summary>
    public bool Disarm()
    {
        bool timedOut, timing;
        lock (_lock)
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
            _timer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        return timedOut;
    }

    /// <summary>Frees the timer; call when disarmed, once the owner is done (a callback still on its way does nothing).</summary>
    public void Dispose() => _timer?.Dispose();

    private void OnTimer()
    {
        PipeReader? read;
        lock (_lock)
        {
            if (_awaited is null || _timedOut || !_timing)
            {
                return; // disarmed meanwhile, already fired, or a wait without a timeout
            }

            // A callback that was already on its way when an earlier wait was disarmed may run during a later one
            // (on this request or the next the owner serves): the deadline tells, and the timer is set again.
            long left = _timeoutMilliseconds - (long)_time.GetElapsedTime(_armedAt).TotalMilliseconds;
            if (left > 0)
            {
                _timer!.Change(TimerDue(left), Timeout.InfiniteTimeSpan);
                return;
            }

            // Decided under the lock, so Disarm reports it whenever the waiter wakes. Not a timeout when the final
            // headers arrived first (or the stream ended otherwise): they win.
            _timedOut = CancelAwaitedLocked(out read);
        }

        read?.CancelPendingRead();
    }

    /// <summary>
    /// The work <see cref="OnDownstreamGone"/> scheduled: marks the request and ends the wait in progress, under the
    /// lock, so the cancellation cannot land on a read or a stream after <see cref="Disarm"/>.
    /// </summary>
    void IThreadPoolWorkItem.Execute()
    {
        PipeReader? read;
        lock (_lock)
        {
            if (Volatile.Read(ref _goneRequest) != _request)
            {
                return; // a report about an earlier request that arrived late: the owner serves another one now
            }

            _downstreamGone = true;
            CancelAwaitedLocked(out read);
        }

        read?.CancelPendingRead();
    }

    // Ends the wait: the upstream stream is reset with CANCEL unless its final headers are in (for a client that went
    // away, the forwarder then sees DownstreamGone and resets it itself). An HTTP/1.1 read is handed back in
    // `read`, for the caller to cancel once it released the lock: the upstream sockets' pipes run their reader's
    // continuation inline, so the waiter would wake on this thread, inside the lock, and disarm before the outcome
    // was recorded. A cancellation that lands after the waiter disarmed is harmless: Disarm reported the timeout (or
    // DownstreamGone the client's going away), and the waiter then closes that connection rather than read it again.
    // True when it cancelled something (or is about to).
    private bool CancelAwaitedLocked(out PipeReader? read)
    {
        read = null;
        switch (_awaited)
        {
            case Http2Stream upstream:
                return _awaitedConnection!.TryCancelBeforeResponse(upstream, _awaitedGeneration);
            case PipeReader input:
                read = input;
                return true;
            default:
                return false;
        }
    }
}
