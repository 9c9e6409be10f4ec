using System.IO.Pipelines;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// The per-request state of one stream an HTTP/2 client opened: its span, its attempts and the route it took (for
/// the access log), and what an HTTP/1.1 upstream needs (a response head parser, a chunk decoder, the timer of the
/// response-head timeout). Streams on one connection run at once, so this cannot live in the connection as it
/// does for HTTP/1.1; it rides on the pooled stream object (<see cref="Http2Stream.Attachment"/>) instead, made
/// once per stream object and reused by every request that object serves, so a request allocates none of it.
/// </summary>
internal sealed class Http2StreamExchange
{
    private Http1ResponseHead? _responseHead;
    private ChunkedDecoder? _responseChunks;

    // The response-head timeout: touched by the timer callback as well as the stream's handler, under _timeoutLock.
    private readonly Lock _timeoutLock = new();
    private Timer? _timer; // made by the first request on this object whose route has a timeout
    private PipeReader? _awaited; // the upstream read the timer cancels; null when disarmed
    private long _deadline;
    private bool _timedOut;

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
    /// Starts the timeout of a wait for the response head on <paramref name="input"/>: when it fires, the pending
    /// read is cancelled and <see cref="DisarmTimeout"/> reports it. Nothing happens without a timeout. The timer is
    /// reused from request to request, as Http1ServerConnection reuses its own, so arming allocates nothing.
    /// </summary>
    public void ArmTimeout(PipeReader input, TimeSpan? timeout)
    {
        if (timeout is not { } t)
        {
            return;
        }

        lock (_timeoutLock)
        {
            _awaited = input;
            _timedOut = false;
            _deadline = Environment.TickCount64 + (long)Math.Ceiling(t.TotalMilliseconds);
        }

        _timer ??= new Timer(static state => ((Http2StreamExchange)state!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
        _timer.Change(t, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Ends the wait started by <see cref="ArmTimeout"/>; true when the timeout fired first.</summary>
    public bool DisarmTimeout()
    {
        bool timedOut;
        lock (_timeoutLock)
        {
            if (_awaited is null)
            {
                return false; // not armed
            }

            _awaited = null;
            timedOut = _timedOut;
        }

        _timer!.Change(Timeout.Infinite, Timeout.Infinite);
        return timedOut;
    }

    private void OnTimer()
    {
        lock (_timeoutLock)
        {
            if (_awaited is null)
            {
                return; // disarmed meanwhile
            }

            // A callback that was already on its way when an earlier wait was disarmed may run during a later one
            // (on this request or the next the object serves): the deadline tells, and the timer is set again.
            long left = _deadline - Environment.TickCount64;
            if (left > 0)
            {
                _timer!.Change(left, Timeout.Infinite);
                return;
            }

            // Under the lock, so the cancellation cannot land on a read made after DisarmTimeout.
            _timedOut = true;
            _awaited.CancelPendingRead();
        }
    }
}
