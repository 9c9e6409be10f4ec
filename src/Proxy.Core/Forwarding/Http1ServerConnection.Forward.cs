using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Http;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    private readonly RetryBodyBuffer _retryBody = new();

    /// <summary>
    /// Forwards the parsed request and its response: limits, route, rate limits, faults, mirror,
    /// circuit breaker, then attempts (with retries when the route has a policy). Returns true when
    /// the downstream connection can carry another request.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardAsync()
    {
        var started = Stopwatch.GetTimestamp();
        ResponseTimeout.Begin();
        RefreshRouting();
        StartTrace();
        _uploadError = Http1ParseError.None;
        _uploadTooLarge = false;
        _uploadedBytes = 0;
        _clientLeftMidBody = false;
        var framing = _request.BodyFraming;
        var hasBody = framing == Http1BodyFraming.Chunked || (framing == Http1BodyFraming.ContentLength && _request.ContentLength > 0);
        var keepAlive = _request.KeepAlive && !_draining; // a drain ends keep-alive: this response says Connection: close
        var closeAfterAnswer = hasBody || !keepAlive;

        if (_maxBodyBytes > 0 && framing == Http1BodyFraming.ContentLength && _request.ContentLength > _maxBodyBytes)
        {
            return await AnswerAsync(_routing.NoRoute, 413, ResponseFlag.RequestTooLarge, started, close: true, null, null).ConfigureAwait(false);
        }

        // A chunked body whose first bytes are already here is checked before anything is sent
        // upstream, so a malformed chunk line (bare LF, bad size) is a clean 400, not a half-sent request.
        if (framing == Http1BodyFraming.Chunked && PeekChunkedError() is var chunkError and not Http1ParseError.None)
        {
            await RejectAsync(chunkError.ToStatusCode(), chunkError.ToFlag(), ResponseFlag.DownstreamProtocolError).ConfigureAwait(false);
            return false;
        }

        // The route and the cluster are chosen before the filters run (they read the route's policies); a request that
        // matched none is answered 404 by the router, after the filters (authorization answers first).
        var view = new Http1RequestView(_request);
        var exchange = _exchange;
        exchange.Begin(_routing, started, hasBody, closeAfterAnswer);
        exchange.MatchRoute(ref view);
        var action = exchange.Action;
        var cluster = exchange.Cluster;
        var routeMetrics = exchange.Metrics;
        var filters = _routing.Filters;
        try
        {
            if (!await filters.RunAsync(exchange).ConfigureAwait(false))
            {
                return exchange.KeepAliveAfterAnswer;
            }

            if (action is null || cluster is null)
            {
                return await AnswerAsync(_routing.NoRoute, 404, ResponseFlag.NoRoute, started, closeAfterAnswer, null, null).ConfigureAwait(false);
            }

            // A request the filters let through counts toward the retry budget, as on the HTTP/2 client paths.
            action.Budget?.Deposit();
            return await ExchangeAsync(cluster, action, routeMetrics, hasBody, keepAlive, started).ConfigureAwait(false);
        }
        finally
        {
            filters.Complete(exchange);
            _retryBody.Reset();
        }
    }

    /// <summary>
    /// Runs attempts until one gives a response to relay or the retry policy (and its budget and
    /// breaker) says stop; then relays that response or answers the error.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExchangeAsync(Cluster cluster, RouteRuntime action, RouteMetrics routeMetrics, bool hasBody, bool keepAlive, long started)
    {
        // An HTTP/2 cluster: the request becomes a stream on a multiplexed upstream connection.
        if (cluster.SpeaksHttp2)
        {
            return await ExchangeHttp2Async(cluster, action, routeMetrics, hasBody, keepAlive, started).ConfigureAwait(false);
        }

        var policy = action.Retry;

        // A small Content-Length body is read whole first, so a retry can send it again.
        var buffered = false;
        if (hasBody && policy is not null && !_request.IsChunked && _request.ContentLength <= RetryBodyBuffer.DefaultLimit)
        {
            if (!await BufferBodyAsync(_request.ContentLength).ConfigureAwait(false))
            {
                return false; // the client went away mid-body
            }

            buffered = true;
        }

        // Any other body (chunked, or larger than 64 KiB) streams, and when the route retries, what each
        // try takes of it is kept for the next (up to 64 KiB, as for HTTP/2 clusters). The chunked decoder's state, like
        // the content-length left, carries over from one try to the next.
        StreamedBodyReplay? replay = null;
        if (hasBody && !buffered)
        {
            RequestChunks.Reset();
            replay = policy is null ? null : _replay ??= new StreamedBodyReplay();
        }

        // The route timeout is a deadline for all the tries and the backoff between them, from here; each try waits
        // for its response head at most the per-try timeout or the time left, whichever is shorter.
        var deadline = RequestDeadline.StartNow(action.Timeout, policy?.PerTryTimeout);
        var attempts = _http1Attempts ??= new Http1UpstreamAttempts(this);
        attempts.Begin(cluster, action, routeMetrics, replay, hasBody, buffered, keepAlive, started);
        try
        {
            var pick = PickContextFor(cluster);
            return await AttemptDriver.RunAsync(attempts, action, cluster, cluster.Pick(pick), pick, deadline, _request.Method.IsIdempotent(), _metrics).ConfigureAwait(false);
        }
        finally
        {
            attempts.End();
            replay?.Reset();
        }
    }

    private Http1UpstreamAttempts? _http1Attempts; // made by the first request to an HTTP/1.1 cluster, then reused

    /// <summary>One try: a connection, the request, and the response head (or why there is none).</summary>
    private struct Attempt
    {
        public HeadReadResult Head;
        public UpstreamConnection? Upstream;
        public Task<bool>? Upload;
        public AttemptOutcome Outcome;
        public bool Idempotent;

        /// <summary>The client's body broke the rules or was too large: answer the client, never retry.</summary>
        public bool ClientProblem;

        /// <summary>The client closed its connection (FIN or RST) while the response head was awaited.</summary>
        public bool ClientGone;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<Attempt> AttemptAsync(Endpoint endpoint, Cluster cluster, bool hasBody, bool buffered, StreamedBodyReplay? replay, bool keepAlive, RequestDeadline deadline)
    {
        var attempt = new Attempt { Idempotent = _request.Method.IsIdempotent() };
        AwaitingUpstream(true); // the connect and the wait for the response head: not idle (see CheckIdle)

        // A request that is safe to repeat and has no body gets a second try on a fresh connection
        // when a pooled one turns out to have been closed by the upstream (not a policy retry).
        var staleRetryable = (!hasBody || buffered) && attempt.Idempotent;
        while (true)
        {
            var upstream = endpoint.Pool.TryRent(Environment.TickCount64);
            if (upstream is null)
            {
                upstream = await ConnectAsync(endpoint, cluster, deadline.ConnectTimeout(cluster.ConnectTimeout)).ConfigureAwait(false);
                if (upstream is null)
                {
                    AwaitingUpstream(false);
                    attempt.Head = HeadReadResult.Closed;
                    attempt.Outcome = AttemptOutcome.ConnectFailure;
                    return attempt;
                }
            }

            attempt.Upstream = upstream;
            upstream.Requests++;
            FlushResult flush;
            try
            {
                WriteRequestHead(upstream.Output, hasBody, endpoint: upstream.Endpoint);
                if (buffered)
                {
                    _retryBody.WriteTo(upstream.Output);
                }

                flush = await upstream.Output.FlushAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                // The upstream's send side already failed (its error is latched in the pipe): the
                // attempt's failure, like a close before any response byte, never the client's.
                flush = new FlushResult(isCanceled: false, isCompleted: true);
            }

            if (hasBody && !buffered && !flush.IsCompleted)
            {
                // The body streams while we wait for the response: the upstream may answer early
                // (or send 100 Continue first, which the client waits for).
                attempt.Upload = UploadBodyAsync(upstream, replay);
            }

            // With the request read whole, the client's side is watched meanwhile: its FIN or RST ends the wait.
            attempt.Head = HeadReadResult.Closed;
            if (!flush.IsCompleted)
            {
                // The try's bound is taken once the request is sent: the connect counts against the deadline.
                attempt.Head = await ReadResponseHeadAsync(upstream, deadline.TryTimeout(), watchClient: !hasBody || buffered).ConfigureAwait(false);
                var goneAfterUpload = attempt.Upload is not null && await StopWatchAfterUploadAsync().ConfigureAwait(false);
                attempt.ClientGone = _clientGone || _clientLeftMidBody || goneAfterUpload;
            }

            if (attempt.Head == HeadReadResult.Closed && upstream.IsReused && staleRetryable && !attempt.ClientGone)
            {
                upstream.Dispose();
                _metrics.UpstreamRetries.WithLabels(cluster.Name).Increment();
                continue;
            }

            break;
        }

        AwaitingUpstream(false);
        if (attempt.Head is HeadReadResult.Parsed or HeadReadResult.Truncated or HeadReadResult.Invalid)
        {
            // Response bytes came: no retry replays the body after them, so the replay buffer's memory goes back now.
            replay?.Discard();
        }

        attempt.ClientProblem = _uploadTooLarge || _uploadError != Http1ParseError.None;
        attempt.Outcome = attempt.Head switch
        {
            HeadReadResult.Parsed => AttemptOutcome.Response(_response.StatusCode, GrpcStatusOf(_response)),
            HeadReadResult.TimedOut => AttemptOutcome.PerTryTimeout,
            _ => AttemptOutcome.Reset,
        };
        return attempt;
    }

    private static int GrpcStatusOf(Http1ResponseHead response) =>
        response.TryGetValue("grpc-status"u8, out var value) ? RetryPolicy.ParseGrpcStatus(value) : AttemptOutcome.NoGrpcStatus;

    /// <summary>Relays the final attempt's response, or answers the error it ended with.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FinishAsync(Attempt attempt, Endpoint endpoint, Cluster cluster, RouteRuntime action, RouteMetrics routeMetrics, bool keepAlive, long started)
    {
        var upstream = attempt.Upstream;
        var routeName = action.Route.Name;
        long requestBytes = _request.HeadLength;
        try
        {
            if (attempt.Head != HeadReadResult.Parsed)
            {
                upstream?.Dispose();
                upstream = null;
                if (_uploadTooLarge)
                {
                    return await AnswerAsync(routeMetrics, 413, ResponseFlag.RequestTooLarge, started, close: true, routeName, cluster.Name).ConfigureAwait(false);
                }

                if (_uploadError != Http1ParseError.None)
                {
                    // The client's body broke the framing rules mid-stream; the upstream was cut off.
                    await RejectAsync(_uploadError.ToStatusCode(), _uploadError.ToFlag(), ResponseFlag.DownstreamProtocolError).ConfigureAwait(false);
                    return false;
                }

                if (Volatile.Read(ref _closed) != 0)
                {
                    return false;
                }

                var (status, flag) = attempt.Head switch
                {
                    HeadReadResult.TimedOut => (504, ResponseFlag.UpstreamTimeout),
                    HeadReadResult.Invalid => (502, ResponseFlag.BadUpstreamResponse),
                    _ when attempt.Outcome.Failure == AttemptFailure.ConnectFailure => (502, ResponseFlag.UpstreamConnectFailure),
                    _ => (502, ResponseFlag.UpstreamReset),
                };
                return await AnswerAsync(routeMetrics, status, flag, started, close: true, routeName, cluster.Name).ConfigureAwait(false);
            }

            RelayResult result;
            try
            {
                result = await RelayResponseAsync(upstream!, keepAlive).ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                // Writing to the client failed (its connection reset or closed): the relay's reads of the upstream
                // catch their own errors. The response went out in part, so it is recorded with its status.
                result = new RelayResult(false, false, _response.HeadLength, ResponseFlag.DownstreamDisconnect);
            }

            var reusable = result.UpstreamReusable;
            var downstreamKeepAlive = result.DownstreamKeepAlive;
            if (attempt.Upload is { } upload)
            {
                if (upload.IsCompleted)
                {
                    var uploaded = await upload.ConfigureAwait(false);
                    reusable &= uploaded;
                    downstreamKeepAlive &= uploaded;
                }
                else
                {
                    // The upstream answered without reading the whole body: neither side can be reused.
                    reusable = false;
                    downstreamKeepAlive = false;
                    _input.CancelPendingRead();
                }

                requestBytes += _uploadedBytes;
            }
            else if (_retryBody.Length > 0)
            {
                requestBytes += _retryBody.Length;
            }

            Record(routeMetrics, _response.StatusCode, result.Flag, started, requestBytes, result.ResponseBytes, routeName, cluster.Name, endpoint);
            if (reusable)
            {
                endpoint.Pool.Return(upstream!, Environment.TickCount64);
                upstream = null;
            }

            return downstreamKeepAlive;
        }
        finally
        {
            if (attempt.Upload is null || attempt.Upload.IsCompleted)
            {
                upstream?.Close(); // nothing else uses it now: the orderly close throws nothing
            }
            else
            {
                upstream?.Dispose(); // the upload may still be writing to it
            }
        }
    }

    /// <summary>
    /// The client closed its connection while the response head was awaited: the upstream connection is closed (its
    /// read may have been cancelled, and nobody is left to take the response), and the request recorded with status 0
    /// and <see cref="ResponseFlag.DownstreamDisconnect"/>, as an HTTP/2 client's reset is. The connection ends.
    /// </summary>
    private bool FinishClientGone(in Attempt attempt, Endpoint endpoint, Cluster cluster, RouteMetrics routeMetrics, string? routeName, long started)
    {
        attempt.Upstream?.Dispose();
        Record(routeMetrics, 0, ResponseFlag.DownstreamDisconnect, started, _request.HeadLength + _retryBody.Length + _uploadedBytes, 0, routeName, cluster.Name, endpoint);
        return false;
    }

    private PickContext PickContextFor(Cluster cluster)
    {
        if (cluster.OriginalDestinations is not null)
        {
            return PickContext.None with { Destination = Destination };
        }

        if (cluster.HashHeader is { } header && _request.TryGetValue(header, out var value))
        {
            return PickContext.ForKey(value);
        }

        return cluster.HashOnClientAddress && _clientAddress is not null
            ? PickContext.ForAddress(_clientAddress)
            : PickContext.None;
    }

    /// <summary>Answers with a response the proxy generates (404, 413, 429, 502, 503, 504...), with its flag.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    internal async ValueTask<bool> AnswerAsync(RouteMetrics metrics, int status, ResponseFlag flag, long started, bool close, string? route, string? cluster)
    {
        close |= _draining;
        ReadOnlySpan<byte> additions = _exchange.PrepareLocalAnswer() ? _exchange.ResponseHeadersToAdd.Http1Lines : default;
        int sent = Http1HeadWriter.WriteErrorResponse(_output, status, flag.HeaderValue(), flag == ResponseFlag.AccessDenied ? "RBAC: access denied"u8 : default, close, headOnly: _request.Method == RequestMethod.Head, additions);
        Record(metrics, status, flag, started, _request.HeadLength, sent, route, cluster, null);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return !close && !flush.IsCompleted;
    }
}
