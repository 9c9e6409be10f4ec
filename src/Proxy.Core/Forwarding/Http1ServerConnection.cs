using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Runtime;
using Proxy.Transport;

namespace Proxy.Forwarding;

/// <summary>
/// Serves one downstream HTTP/1.1 connection: reads request heads in order (pipelined requests wait
/// in the pipe, so responses go back in order), routes each one, forwards it over a pooled upstream
/// connection and streams the response back. One read loop owns the connection; only the timeout
/// fields below are touched by other threads (the heartbeat), and the wait for an upstream's response head
/// (<see cref="ResponseTimeout"/>) by its timer and by the watch on the client's side (<see cref="WatchClientAsync"/>).
/// </summary>
public sealed partial class Http1ServerConnection : ITrackedConnection, Proxy.Http.Http2.IHttp2InterimResponseSink
{
    private readonly IDisposable _downstream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ListenerRuntime _listener;
    private readonly Func<HttpRouting?>? _currentRouting;
    private HttpRouting _routing;
    private readonly ProxyMetrics _metrics;
    private readonly IPAddress? _clientAddress;

    /// <summary>Where the client's connection was going (see <see cref="LoadBalancing.PickContext.Destination"/>); null when no cluster of the listener needs it.</summary>
    public IPEndPoint? Destination { get; init; }
    private readonly byte[] _clientAddressText;
    private readonly bool _downstreamTls; // the client came over TLS: X-Forwarded-Proto is https
    private string? _clientAddressString;
    private readonly Http1RequestHead _request;
    private readonly Http1ResponseHead _response;
    private ChunkedDecoder? _requestChunks; // made by the first chunked message: most connections never see one
    private ChunkedDecoder? _responseChunks;
    private readonly Http1Exchange _exchange; // this connection's request as the filters see it, reused by each request
    private readonly byte[] _requestId = new byte[RequestIds.Length];
    private bool _requestIdMade; // _requestId holds this request's id; cleared for each request
    private readonly StrongBox<long> _activity = new(Environment.TickCount64);
    private readonly long _headerTimeoutMs;
    private readonly long _idleTimeoutMs;
    private readonly long _maxBodyBytes;

    private readonly TimeProvider _time;
    private ResponseHeadTimeout? _responseTimeout; // made by the first request forwarded, then reused

    // Touched by the heartbeat as well as the read loop.
    private int _phase; // Phase values, below
    private long _phaseSince;
    private int _headerTimedOut;
    private volatile bool _awaitingUpstream; // a response head is awaited: the wait has its own timeout, if any
    private volatile bool _draining; // Drain(): the response in progress, or the next one, is the last (Connection: close)
    private int _closed;

    private const int PhaseBetweenRequests = 0;
    private const int PhaseReadingHead = 1;
    private const int PhaseForwarding = 2;

    /// <param name="transport">The downstream byte stream: a socket's pipes, or TLS over them.</param>
    /// <param name="connection">Closes the downstream connection (abort on timeouts and drain).</param>
    /// <param name="downstreamTls">True when <paramref name="transport"/> is TLS the proxy terminated (X-Forwarded-Proto https).</param>
    /// <param name="currentRouting">
    /// The listener's routes as the running configuration has them, read at the start of each request so a long-lived
    /// keep-alive connection follows reloads and xDS updates of routes and clusters (the request in flight keeps what
    /// it began with); none: the routes it was made with.
    /// </param>
    /// <param name="time">The clock and timers of the response-head timeout; the system's unless a test scripts them.</param>
    private ChunkedDecoder RequestChunks => _requestChunks ??= new ChunkedDecoder(_routing.Limits);

    private ChunkedDecoder ResponseChunks => _responseChunks ??= new ChunkedDecoder(Http1Limits.Default);

    public Http1ServerConnection(IDuplexPipe transport, IDisposable connection, ListenerRuntime listener, ProxyMetrics metrics, IPAddress? clientAddress, bool downstreamTls, Func<HttpRouting?>? currentRouting = null, RequestTelemetry? telemetry = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _telemetry = telemetry ?? RequestTelemetry.None;
        _currentRouting = currentRouting;
        _downstream = connection;
        _input = transport.Input;
        _output = transport.Output;
        _listener = listener;
        _routing = listener.Http!;
        _metrics = metrics;
        _clientAddress = clientAddress;
        _clientAddressText = AddressText(clientAddress);
        _downstreamTls = downstreamTls;
        _request = new Http1RequestHead(_routing.Limits);
        _response = new Http1ResponseHead(Http1Limits.Default);
        _headerTimeoutMs = (long)listener.Config.Limits.HeaderTimeout.TotalMilliseconds;
        _idleTimeoutMs = (long)listener.Config.IdleTimeout.TotalMilliseconds;
        _maxBodyBytes = listener.Config.Limits.MaxBodyBytes;
        _exchange = new Http1Exchange(this, _request, clientAddress, downstreamTls);
    }

    /// <summary>The client address as X-Forwarded-For text, formatted straight to bytes (no string per connection).</summary>
    private static byte[] AddressText(IPAddress? address)
    {
        Span<byte> text = stackalloc byte[64]; // an IPv6 address with a scope id is at most 56 bytes
        return address is not null && address.TryFormat(text, out var written) ? text[..written].ToArray() : "unknown"u8.ToArray();
    }

    /// <summary>Serves requests until the client closes, an error ends the connection, or keep-alive ends.</summary>
    public async Task RunAsync()
    {
        try
        {
            // The first head is due within the header timeout of the connection's start; a later one within the
            // header timeout of its first byte, the wait before that byte being the idle timeout's.
            EnterPhase(PhaseReadingHead);
            while (Volatile.Read(ref _closed) == 0)
            {
                // Between requests the connection holds no head buffer: both go back to the pool and are rented again
                // by the next parse (no allocation in steady state), so an idle keep-alive connection costs little.
                _request.Dispose();
                _response.Dispose();
                _requestIdMade = false;
                var head = await ReadRequestHeadAsync().ConfigureAwait(false);
                switch (head)
                {
                    case HeadReadResult.Parsed:
                        break;
                    case HeadReadResult.Invalid:
                        await RejectAsync(_parseError.ToStatusCode(), _parseError.ToFlag(), ResponseFlag.DownstreamProtocolError).ConfigureAwait(false);
                        return;
                    case HeadReadResult.TimedOut:
                        await RejectAsync(408, ResponseFlag.RequestHeaderTimeout.HeaderValue(), ResponseFlag.RequestHeaderTimeout).ConfigureAwait(false);
                        return;
                    default:
                        return; // closed between requests, or mid-head: nothing to answer
                }

                EnterPhase(PhaseForwarding);
                if (!await ForwardAsync().ConfigureAwait(false))
                {
                    return;
                }

                EnterPhase(PhaseBetweenRequests);
            }
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            // The downstream went away mid-request; the request's own accounting already happened.
            // Only the client's side may end up here: an upstream's failure (a pooled connection
            // found reset, a failed write, connect or read) is an attempt's outcome, retried or
            // answered 502/504, since this closes the client's connection without a response.
        }
        finally
        {
            // The listener completes the output and waits for it to drain before closing the socket.
            _responseTimeout?.Dispose(); // disarmed: every wait disarms it before the request ends
            _request.Dispose();
            _response.Dispose();
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private Http1ParseError _parseError;

    /// <summary>
    /// The verified identity of the mesh peer on this connection (mutual TLS), which the filters see (the mesh inbound
    /// side's authorization); null at the edge.
    /// </summary>
    public Tls.PeerIdentity? Peer
    {
        get => _exchange.Peer;
        init => _exchange.Peer = value;
    }

    /// <summary>What the listener's RBAC filters read of this connection; null when the listener has none.</summary>
    public Filters.Rbac.RbacConnection? RbacConnection
    {
        get => _exchange.RbacConnection;
        init => _exchange.RbacConnection = value;
    }

    /// <summary>Reads and parses the next request head; bytes after it stay in the pipe (pipelining).</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<HeadReadResult> ReadRequestHeadAsync()
    {
        // The first read takes what is already there: pipelined bytes a read before examined and left (the watch on the
        // client, a chunked body's last read) would not wake ReadAsync again until more arrive.
        var first = true;
        while (true)
        {
            var result = first && _input.TryRead(out var ready) ? ready : await _input.ReadAsync().ConfigureAwait(false);
            first = false;
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (_request.TryParse(ref reader, out var error))
            {
                _input.AdvanceTo(reader.Position);
                return HeadReadResult.Parsed;
            }

            if (error != Http1ParseError.None)
            {
                _parseError = error;
                _input.AdvanceTo(buffer.Start);
                return HeadReadResult.Invalid;
            }

            if (Volatile.Read(ref _headerTimedOut) != 0)
            {
                _input.AdvanceTo(buffer.Start);
                return buffer.IsEmpty ? HeadReadResult.Closed : HeadReadResult.TimedOut;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                _input.AdvanceTo(buffer.End);
                return buffer.IsEmpty ? HeadReadResult.Closed : HeadReadResult.Truncated;
            }

            if (!buffer.IsEmpty && Volatile.Read(ref _phase) == PhaseBetweenRequests)
            {
                EnterPhase(PhaseReadingHead);
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Answers a bad request with its status and the reason, then the connection closes.</summary>
    private ValueTask<FlushResult> RejectAsync(int status, ReadOnlySpan<byte> reason, ResponseFlag flag)
    {
        int sent = Http1HeadWriter.WriteErrorResponse(_output, status, reason);
        Record(_routing.NoRoute, status, flag, Stopwatch.GetTimestamp(), _request.HeadLength, sent, null, null, null);
        return _output.FlushAsync();
    }

    /// <summary>Switches to the listener's current routes, if a reload or an xDS update replaced them.</summary>
    private void RefreshRouting()
    {
        if (_currentRouting?.Invoke() is { } routing)
        {
            _routing = routing;
        }
    }

    private void EnterPhase(int phase)
    {
        Volatile.Write(ref _phaseSince, Environment.TickCount64);
        Volatile.Write(ref _phase, phase);
    }

    /// <summary>
    /// Heartbeat (once a second): a head that has started but not finished within the header
    /// timeout is answered 408 (slowloris); a connection with nothing in progress for the idle
    /// timeout is closed.
    /// </summary>
    public void CheckIdle(long nowMilliseconds)
    {
        var phase = Volatile.Read(ref _phase);
        var since = Volatile.Read(ref _phaseSince);
        if (phase == PhaseReadingHead && _headerTimeoutMs > 0 && nowMilliseconds - since > _headerTimeoutMs)
        {
            if (Interlocked.Exchange(ref _headerTimedOut, 1) == 0)
            {
                _input.CancelPendingRead();
            }
        }
        else if (phase == PhaseBetweenRequests && _idleTimeoutMs > 0 && nowMilliseconds - since > _idleTimeoutMs)
        {
            _listener.Metrics.IdleTimeouts.Increment();
            Abort();
        }
        else if (phase == PhaseBetweenRequests && _draining && since != 0)
        {
            Abort(); // went idle just as the drain began (its keep-alive was decided before): closed here
        }
        else if (phase == PhaseForwarding && _idleTimeoutMs > 0 && nowMilliseconds - Math.Max(since, _activity.Value) > _idleTimeoutMs && !_awaitingUpstream)
        {
            // A body that stopped moving in both directions. The wait for a response head, of either kind of
            // upstream, is not idle: it has the route's timeout, or none.
            _listener.Metrics.IdleTimeouts.Increment();
            Abort();
        }
    }

    /// <summary>
    /// The proxy drains: an idle keep-alive connection closes now; one with a request in progress answers it with
    /// <c>Connection: close</c> and closes; one accepted during the drain (not started, <c>_phaseSince</c> still 0)
    /// serves its first request the same way.
    /// </summary>
    public void Drain()
    {
        _draining = true;
        if (Volatile.Read(ref _phase) == PhaseBetweenRequests && Volatile.Read(ref _phaseSince) != 0)
        {
            Abort();
        }
    }

    public void Abort()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _downstream.Dispose();
        }
    }

    /// <summary>
    /// The wait for the upstream's response head, of either kind of upstream: its route / per-try timeout, and the
    /// client's going away (<see cref="WatchClientAsync"/>), on one object reused by every request of the connection.
    /// </summary>
    private ResponseHeadTimeout ResponseTimeout => _responseTimeout ??= new ResponseHeadTimeout(_time);

    /// <summary>Marks the wait for a response head, which the idle timeout leaves alone; its end counts as activity.</summary>
    private void AwaitingUpstream(bool awaiting)
    {
        _activity.Value = Environment.TickCount64;
        _awaitingUpstream = awaiting;
    }

    private static double ElapsedMilliseconds(long startTimestamp) =>
        Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
}
