using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
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
        var framing = _request.BodyFraming;
        var hasBody = framing == Http1BodyFraming.Chunked || (framing == Http1BodyFraming.ContentLength && _request.ContentLength > 0);
        var keepAlive = _request.KeepAlive && !_draining; // a drain ends keep-alive: this response says Connection: close
        var closeAfterAnswer = hasBody || !keepAlive;

        if (Authorize is { } authorize && !authorize(_request.MethodBytes, _request.PathAndQuery))
        {
            return await AnswerAsync(_routing.NoRoute, 403, ResponseFlag.AccessDenied, started, closeAfterAnswer, null, null).ConfigureAwait(false);
        }

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

        var view = new Http1RequestView(_request);
        var route = _routing.Table.Match(ref view);
        if (route is null)
        {
            return await AnswerAsync(_routing.NoRoute, 404, ResponseFlag.NoRoute, started, closeAfterAnswer, null, null).ConfigureAwait(false);
        }

        var action = _routing.Actions[route.Index];
        var clusterIndex = route.Clusters.Count == 1 ? 0 : route.PickClusterIndex((uint)Random.Shared.Next());
        var cluster = action.Clusters[clusterIndex];
        var routeMetrics = action.Metrics[clusterIndex];

        // Rate limits, faults and the mirror, decided as for HTTP/2 clients (RouteAdmission).
        var admission = RouteAdmission.Decide(_routing, action, ref view);
        if (!admission.IsForward)
        {
            if (admission.Delay > TimeSpan.Zero)
            {
                await Task.Delay(admission.Delay).ConfigureAwait(false);
            }

            if (admission.Status != 0)
            {
                return await AnswerAsync(routeMetrics, admission.Status, admission.Flag, started, closeAfterAnswer, route.Name, cluster.Name).ConfigureAwait(false);
            }
        }

        if (RouteAdmission.MirrorTarget(action, hasBody) is { } mirrorCluster)
        {
            Mirror(mirrorCluster);
        }

        var breaker = cluster.Resilience.Breaker;
        if (breaker is not null && breaker.TryAcquire(CircuitBreakerResource.Requests) != CircuitBreakerResource.None)
        {
            return await AnswerAsync(routeMetrics, 503, ResponseFlag.UpstreamOverflow, started, closeAfterAnswer, route.Name, cluster.Name).ConfigureAwait(false);
        }

        // A request the breaker let through counts toward the retry budget, as on the HTTP/2 client paths.
        action.Budget?.Deposit();

        try
        {
            return await ExchangeAsync(cluster, action, routeMetrics, hasBody, keepAlive, started).ConfigureAwait(false);
        }
        finally
        {
            breaker?.Release(CircuitBreakerResource.Requests);
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
        if (cluster.Endpoints.Count > 0 && cluster.Endpoints[0].Http2Pool is not null)
        {
            return await ExchangeHttp2Async(cluster, action, routeMetrics, hasBody, keepAlive, started).ConfigureAwait(false);
        }

        var policy = action.Retry;
        var routeName = action.Route.Name;

        // A small Content-Length body is read whole first, so a retry can send it again (bodies
        // over 64 KiB and chunked bodies stream once and are not retried, as in linkerd).
        var buffered = false;
        if (hasBody && policy is not null && !_request.IsChunked && _request.ContentLength <= RetryBodyBuffer.DefaultLimit)
        {
            if (!await BufferBodyAsync(_request.ContentLength).ConfigureAwait(false))
            {
                return false; // the client went away mid-body
            }

            buffered = true;
        }

        // The route timeout is a deadline for all the tries and the backoff between them, from here; each try waits
        // for its response head at most the per-try timeout or the time left, whichever is shorter.
        var deadline = RequestDeadline.StartNow(action.Timeout, policy?.PerTryTimeout);
        var retries = 0;
        var holdingRetry = false;
        try
        {
            Endpoint? triedLast = null, triedBefore = null;
            while (true)
            {
                var endpoint = PickForAttempt(cluster, triedLast, triedBefore);
                if (endpoint is null)
                {
                    return await AnswerAsync(routeMetrics, 503, ResponseFlag.NoHealthyEndpoint, started, hasBody || !keepAlive, routeName, cluster.Name).ConfigureAwait(false);
                }

                _attempts++;
                endpoint.OnRequestStarted();
                var latencyStart = Stopwatch.GetTimestamp();
                Attempt attempt;
                try
                {
                    attempt = await AttemptAsync(endpoint, cluster, hasBody, buffered, keepAlive, deadline).ConfigureAwait(false);
                }
                finally
                {
                    endpoint.OnRequestCompletedSince(latencyStart);
                }

                if (holdingRetry)
                {
                    cluster.Resilience.Breaker?.Release(CircuitBreakerResource.Retries);
                    holdingRetry = false;
                }

                if (attempt.ClientGone)
                {
                    return FinishClientGone(attempt, endpoint, cluster, routeMetrics, routeName, started);
                }

                cluster.Resilience.Outliers?.Report(endpoint.Health, attempt.Outcome);

                // A retry needs time left before the deadline: a timeout with none left was the deadline's, not the per-try one.
                if (!attempt.ClientProblem && deadline.HasTimeLeft() &&
                    policy is not null && MayRetry(policy, action, cluster, attempt, retries, hasBody, buffered))
                {
                    holdingRetry = true;
                    attempt.Upstream?.Dispose();
                    triedBefore = triedLast;
                    triedLast = endpoint;
                    retries++;
                    await Task.Delay(deadline.CapBackoff(policy.Backoff(retries, SharedRandomSource.Instance), out var reachesDeadline)).ConfigureAwait(false);
                    if (reachesDeadline || !deadline.HasTimeLeft())
                    {
                        // The deadline passed in the backoff: no further try.
                        return await AnswerAsync(routeMetrics, 504, ResponseFlag.UpstreamTimeout, started, close: true, routeName, cluster.Name).ConfigureAwait(false);
                    }

                    continue;
                }

                return await FinishAsync(attempt, endpoint, cluster, action, routeMetrics, keepAlive, started).ConfigureAwait(false);
            }
        }
        finally
        {
            if (holdingRetry)
            {
                cluster.Resilience.Breaker?.Release(CircuitBreakerResource.Retries);
            }
        }
    }

    /// <summary>Picks the endpoint of an attempt, avoiding the ones that just failed (see <see cref="RetryGate.PickForAttempt"/>).</summary>
    private Endpoint? PickForAttempt(Cluster cluster, Endpoint? triedLast, Endpoint? triedBefore) =>
        RetryGate.PickForAttempt(cluster, PickContextFor(cluster), triedLast, triedBefore);

    /// <summary>The retry policy, then the budget, then the breaker's retry limit must all agree.</summary>
    private static bool MayRetry(RetryPolicy policy, RouteRuntime action, Cluster cluster, in Attempt attempt, int retries, bool hasBody, bool buffered)
    {
        var replayable = !hasBody || buffered || attempt.Outcome.Failure == AttemptFailure.ConnectFailure;
        return RetryGate.MayRetry(policy, action, cluster, attempt.Outcome, retries, attempt.Idempotent, replayable);
    }

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
    private async ValueTask<Attempt> AttemptAsync(Endpoint endpoint, Cluster cluster, bool hasBody, bool buffered, bool keepAlive, RequestDeadline deadline)
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
                upstream = await ConnectAsync(endpoint, cluster).ConfigureAwait(false);
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
                WriteRequestHead(upstream.Output, hasBody);
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
                attempt.Upload = UploadBodyAsync(upstream);
            }

            // With the request read whole, the client's side is watched meanwhile: its FIN or RST ends the wait.
            attempt.Head = HeadReadResult.Closed;
            if (!flush.IsCompleted)
            {
                // The try's bound is taken once the request is sent: the connect counts against the deadline.
                attempt.Head = await ReadResponseHeadAsync(upstream, deadline.TryTimeout(), watchClient: !hasBody || buffered).ConfigureAwait(false);
                attempt.ClientGone = _clientGone;
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
        Record(routeMetrics, 0, ResponseFlag.DownstreamDisconnect, started, _request.HeadLength + _retryBody.Length, 0, routeName, cluster.Name, endpoint);
        return false;
    }

    /// <summary>Reads a Content-Length body of at most 64 KiB into the retry buffer.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> BufferBodyAsync(long length)
    {
        var remaining = length;
        while (remaining > 0)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return false;
            }

            var buffer = result.Buffer;
            var take = buffer.Length > remaining ? buffer.Slice(0, remaining) : buffer;
            _retryBody.Append(take);
            remaining -= take.Length;
            _input.AdvanceTo(take.End);
            if (remaining > 0 && (result.IsCompleted || result.IsCanceled))
            {
                return false;
            }
        }

        _activity.Value = Environment.TickCount64;
        return true;
    }

    /// <summary>Validates the chunked body bytes already buffered, without consuming them.</summary>
    private Http1ParseError PeekChunkedError()
    {
        if (!_input.TryRead(out var result))
        {
            return Http1ParseError.None;
        }

        var reader = new SequenceReader<byte>(result.Buffer);
        _requestChunks.Reset();
        while (_requestChunks.Decode(ref reader, out _) == ChunkedDecodeStatus.Data)
        {
        }

        var error = _requestChunks.Error;
        _requestChunks.Reset();
        _input.AdvanceTo(result.Buffer.Start);
        return error;
    }

    private PickContext PickContextFor(Cluster cluster)
    {
        if (cluster.HashHeader is { } header && _request.TryGetValue(header, out var value))
        {
            return PickContext.ForKey(value);
        }

        return cluster.HashOnClientAddress && _clientAddress is not null
            ? PickContext.ForAddress(_clientAddress)
            : PickContext.None;
    }

    /// <summary>Opens a connection to an HTTP/1.1 endpoint (TLS when the cluster says so); null when that failed, counted.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    internal static async ValueTask<UpstreamConnection?> ConnectAsync(Endpoint endpoint, Cluster cluster)
    {
        var started = Environment.TickCount64;
        try
        {
            var socket = await Connector.ConnectAsync(endpoint.Address, cluster.ConnectTimeout).ConfigureAwait(false);
            IDuplexPipe transport = socket;
            if (cluster.Settings.Tls is { } tls)
            {
                var secured = await Tls.TlsHandshake.ConnectAsync(socket, tls, endpoint, cluster.ConnectTimeout).ConfigureAwait(false);
                if (secured is null)
                {
                    cluster.Metrics.ConnectRefused.Increment(); // the handshake failed; the socket is closed
                    return null;
                }

                transport = secured;
            }

            cluster.Metrics.Connections.Increment();
            cluster.Metrics.ConnectDuration.Observe(Environment.TickCount64 - started);
            return new UpstreamConnection(socket, transport, endpoint);
        }
        catch (TimeoutException)
        {
            cluster.Metrics.ConnectTimeouts.Increment();
        }
        catch (SocketException)
        {
            cluster.Metrics.ConnectRefused.Increment();
        }

        return null;
    }

    /// <summary>Writes the forwarded request head: original field lines, framing re-derived, X-Forwarded-* and trace context added.</summary>
    private void WriteRequestHead(IBufferWriter<byte> output, bool hasBody, ReadOnlySpan<byte> connection = default)
    {
        var options = new Http1ForwardOptions
        {
            Framing = !hasBody ? Http1BodyFraming.None : _request.IsChunked ? Http1BodyFraming.Chunked : Http1BodyFraming.ContentLength,
            ContentLength = _request.ContentLength,
            ForwardUpgrade = _request.IsUpgradeRequest,
            Connection = !connection.IsEmpty ? connection : _request.IsUpgradeRequest ? "upgrade"u8 : default,
            ForwardedFor = _clientAddressText,
            ForwardedProto = ForwardedScheme.OfDownstream(_downstreamTls),
            ForwardedHost = _request.Host,
            RequestId = _request.Contains(KnownHeader.XRequestId) ? default : GeneratedRequestId,
            ReplaceTraceContext = RequestTrace.PropagatesOwnSpan(_telemetry),
            ExtraLines = TraceLines,
        };
        Http1HeadWriter.WriteRequest(output, _request, options);
    }

    /// <summary>
    /// The x-request-id of a request that came without one: made on first use, then the same for every attempt,
    /// the mirrored copy and the access-log entry, so the upstream's logs and the proxy's agree on it.
    /// </summary>
    private ReadOnlySpan<byte> GeneratedRequestId
    {
        get
        {
            if (!_requestIdMade)
            {
                RequestIds.Write(_requestId);
                _requestIdMade = true;
            }

            return _requestId;
        }
    }

    /// <summary>Answers with a response the proxy generates (404, 413, 429, 502, 503, 504...), with its flag.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AnswerAsync(RouteMetrics metrics, int status, ResponseFlag flag, long started, bool close, string? route, string? cluster)
    {
        close |= _draining;
        if (_request.Method == RequestMethod.Head)
        {
            Http1HeadWriter.WriteErrorResponse(_output, status, flag.HeaderValue(), " "u8, close);
        }
        else
        {
            Http1HeadWriter.WriteErrorResponse(_output, status, flag.HeaderValue(), default, close);
        }

        Record(metrics, status, flag, started, _request.HeadLength, 0, route, cluster, null);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return !close && !flush.IsCompleted;
    }
}
