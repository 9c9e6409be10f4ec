using System.Buffers.Text;
using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
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
    private Http2HeaderList? _http2Request; // reused: one request at a time per HTTP/1.1 connection
    private StreamedBodyReplay? _replay;     // made by the first streamed body, then reused likewise

    // The flush of the last interim (1xx) response relayed to the client; awaited before the forwarder writes.
    private ValueTask<FlushResult> _interimFlush;

    /// <summary>
    /// h1 -> h2 with retries: attempts on the cluster's endpoints until one gives a response to relay or the retry
    /// rules (<see cref="RetryGate"/>) say stop. A request is sent again when it has no body, when its body was
    /// buffered first (Content-Length up to 64 KiB, when the route retries), or when the attempt failed before its
    /// response headers while no more of its streamed body was taken than the replay buffer holds
    /// (<see cref="StreamedBodyReplay"/>).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExchangeHttp2Async(Cluster cluster, RouteRuntime action, RouteMetrics routeMetrics, bool hasBody, bool keepAlive, long started)
    {
        RetryPolicy? policy = action.Retry;

        // A client waiting for 100 Continue sends no body until the upstream asks for it: that body streams.
        bool buffered = false;
        if (hasBody && policy is not null && !_request.IsChunked && !_request.ExpectContinue && _request.ContentLength <= RetryBodyBuffer.DefaultLimit)
        {
            if (!await BufferBodyAsync(_request.ContentLength).ConfigureAwait(false))
            {
                return false; // the client went away mid-body
            }

            buffered = true;
        }

        // Any other body streams, and what each attempt takes of it is kept for a retry. The chunked decoder's
        // state, like the content-length left, carries over from one attempt to the next.
        StreamedBodyReplay? replay = null;
        if (hasBody && !buffered)
        {
            replay = _replay ??= new StreamedBodyReplay();
            _requestChunks.Reset();
        }

        // The route timeout is a deadline for all the tries and the backoff between them, from here; each try waits
        // for its response headers at most the per-try timeout or the time left, whichever is shorter.
        RequestDeadline deadline = RequestDeadline.StartNow(action.Timeout, policy?.PerTryTimeout);
        bool idempotent = _request.Method.IsIdempotent();
        Endpoint? endpoint = cluster.Pick(PickContextFor(cluster));
        Endpoint? triedLast = null, triedBefore = null;
        int retries = 0, refusedRetries = 0;
        bool holdingRetry = false;
        try
        {
            while (true)
            {
                if (endpoint?.Http2Pool is not { } pool)
                {
                    return await AnswerAsync(routeMetrics, 503, ResponseFlag.NoHealthyEndpoint, started, (hasBody && !buffered) || !keepAlive, action.Route.Name, cluster.Name).ConfigureAwait(false);
                }

                _attempts++;
                endpoint.OnRequestStarted();
                long latencyStart = Stopwatch.GetTimestamp();
                Http2Exchange attempt = default;
                try
                {
                    attempt = await AttemptHttp2Async(endpoint, pool, cluster, hasBody, buffered, replay, deadline).ConfigureAwait(false);
                    if (attempt.ClientGone)
                    {
                        // The client closed its connection: the upstream stream is cancelled (if its response headers
                        // came first, the timeout's object left it open), nobody is left to answer.
                        if (attempt.Stream is { } cancelled)
                        {
                            await cancelled.Connection.ResetAsync(cancelled, Http2ErrorCode.Cancel).ConfigureAwait(false);
                        }

                        Record(routeMetrics, 0, ResponseFlag.DownstreamDisconnect, started, _request.HeadLength + (attempt.Stream?.SentBodyBytes ?? 0), 0,
                            action.Route.Name, cluster.Name, endpoint);
                        return false;
                    }

                    if (holdingRetry)
                    {
                        cluster.Resilience.Breaker?.Release(CircuitBreakerResource.Retries);
                        holdingRetry = false;
                    }

                    cluster.Resilience.Outliers?.Report(endpoint.Health, attempt.Outcome);

                    // What a failed attempt's upload took from the client is known once the upload has stopped.
                    if (replay is not null && attempt.Outcome.Failure != AttemptFailure.None)
                    {
                        await EndUploadAsync(attempt, buffered).ConfigureAwait(false);
                    }

                    // A retry needs time left before the deadline (a timeout with none left was the deadline's, not the
                    // per-try one); a body the client got wrong (too large, malformed) is answered, never retried.
                    bool replayable = !hasBody || buffered || attempt.Outcome.Failure == AttemptFailure.ConnectFailure || replay?.CanReplay == true;
                    bool clientProblem = _uploadTooLarge || _uploadError != Http1ParseError.None;
                    bool retry = false;
                    if (!clientProblem && deadline.HasTimeLeft())
                    {
                        if (policy is not null && RetryGate.MayRetry(policy, action, cluster, attempt.Outcome, retries, idempotent, replayable))
                        {
                            holdingRetry = true;
                            retries++;
                            retry = true;
                        }
                        else
                        {
                            retry = RetryGate.MayRetryRefused(attempt.Outcome, ref refusedRetries, replayable, cluster, _metrics);
                        }
                    }

                    if (!retry)
                    {
                        return await FinishHttp2Async(attempt, endpoint, cluster, action, routeMetrics, hasBody, buffered, keepAlive, started).ConfigureAwait(false);
                    }
                }
                finally
                {
                    // The stream goes back to the pool once released, so its upload ends first.
                    await EndUploadAsync(attempt, buffered).ConfigureAwait(false);
                    if (attempt.Stream is { } stream)
                    {
                        await stream.Connection.ReleaseStreamAsync(stream).ConfigureAwait(false);
                    }

                    endpoint.OnRequestCompletedSince(latencyStart);
                }

                bool reachesDeadline = false;
                if (policy is not null && retries > 0)
                {
                    await Task.Delay(deadline.CapBackoff(policy.Backoff(retries, SharedRandomSource.Instance), out reachesDeadline)).ConfigureAwait(false);
                }

                if (reachesDeadline || !deadline.HasTimeLeft())
                {
                    // The deadline passed in the backoff: no further try.
                    return await AnswerAsync(routeMetrics, 504, ResponseFlag.UpstreamTimeout, started, close: true, action.Route.Name, cluster.Name).ConfigureAwait(false);
                }

                triedBefore = triedLast;
                triedLast = endpoint;
                endpoint = PickForAttempt(cluster, triedLast, triedBefore);
            }
        }
        finally
        {
            if (holdingRetry)
            {
                cluster.Resilience.Breaker?.Release(CircuitBreakerResource.Retries);
            }

            replay?.Reset();
        }
    }

    /// <summary>
    /// Ends the attempt's upload if it still runs (the exchange ended first, or a retry needs the client's body): the
    /// reset ends its sends, the cancelled read wakes one waiting for client bytes. A response relayed before the
    /// whole body was read closes the connection afterwards, as keep-alive needs the body read.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask EndUploadAsync(Http2Exchange attempt, bool buffered)
    {
        if (attempt.Upload is not { } upload)
        {
            return;
        }

        if (upload.IsCompleted || attempt.Stream is not { } open)
        {
            await upload.ConfigureAwait(false);
            return;
        }

        await open.Connection.ResetAsync(open, Http2ErrorCode.Cancel).ConfigureAwait(false);
        if (buffered)
        {
            await upload.ConfigureAwait(false);
            return;
        }

        _input.CancelPendingRead();
        await upload.ConfigureAwait(false);
        StreamedBodyReplay.ClearPendingCancel(_input);
    }

    /// <summary>One try over HTTP/2: the upstream stream, the request on it, and how it ended.</summary>
    private struct Http2Exchange
    {
        public Http2Stream? Stream;
        public Task<bool>? Upload;
        public AttemptOutcome Outcome;
        public bool TimedOut;

        /// <summary>The client closed its connection (FIN or RST) while the response headers were awaited.</summary>
        public bool ClientGone;
    }

    /// <summary>
    /// h1 -> h2, one try: the request head becomes HEADERS (:authority from Host, hop-by-hop fields dropped, names
    /// lowercased), the body DATA frames, and the attempt waits for the final response headers. Interim responses
    /// reach the client meanwhile (<see cref="IHttp2InterimResponseSink.OnInterimResponse"/>). With the request read
    /// whole, the client's side is watched meanwhile (<see cref="WatchClientAsync"/>): its FIN or RST resets the
    /// upstream stream with CANCEL and ends the wait.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<Http2Exchange> AttemptHttp2Async(Endpoint endpoint, Http2ConnectionPool pool, Cluster cluster, bool hasBody, bool buffered, StreamedBodyReplay? replay, RequestDeadline deadline)
    {
        var attempt = default(Http2Exchange);
        Http2HeaderList headers = _http2Request ??= new Http2HeaderList();
        BuildHttp2Request(headers, hasBody, ForwardedScheme.OfUpstream(cluster));
        _interimFlush = default;
        AwaitingUpstream(true); // the connect and the wait for the response headers: not idle (see CheckIdle)
        Http2Stream? stream = await pool.OpenStreamAsync(endpoint, headers, endStream: !hasBody, cluster.ConnectTimeout, cluster.Metrics, cluster.Settings.Tls, interimSink: this).ConfigureAwait(false);
        if (stream is null)
        {
            AwaitingUpstream(false);
            attempt.Outcome = AttemptOutcome.ConnectFailure;
            return attempt;
        }

        attempt.Stream = stream;
        attempt.Upload = !hasBody ? null : buffered ? SendBufferedBodyAsync(stream) : UploadToHttp2Async(stream, replay!);

        // A timeout is the connection's reused timer, which resets the upstream stream with CANCEL, so the wait ends
        // with false: no task or timer per request, and the stream's waiter always takes its result, so the stream
        // is recycled. The reset comes before the answer: no interim response is written to the client after it.
        // The client's going away resets it the same way, with or without a timeout.
        bool watchClient = !hasBody || buffered;
        ResponseHeadTimeout responseTimeout = ResponseTimeout;
        responseTimeout.Arm(stream, deadline.TryTimeout()); // taken once the stream is open: its connect counts against the deadline
        ValueTask<ClientWatch> watch = watchClient ? WatchClientAsync() : default;
        bool received;
        try
        {
            received = await stream.HeadersReceived.ConfigureAwait(false);
        }
        finally
        {
            attempt.TimedOut = responseTimeout.Disarm();
        }

        attempt.ClientGone = (watchClient && await StopWatchingClientAsync(watch).ConfigureAwait(false)) || responseTimeout.DownstreamGone;
        AwaitingUpstream(false);
        await AwaitInterimFlushAsync().ConfigureAwait(false);
        if (attempt.ClientGone)
        {
            attempt.Outcome = AttemptOutcome.Reset;
            return attempt;
        }

        if (attempt.TimedOut)
        {
            attempt.Outcome = AttemptOutcome.PerTryTimeout;
            return attempt;
        }

        attempt.Outcome = RetryGate.OutcomeOf(stream, received);
        if (received)
        {
            // No retry replays the body after the response headers: the replay buffer's memory goes back now.
            replay?.Discard();
        }

        return attempt;
    }

    /// <summary>
    /// Relays the last attempt's response as an HTTP/1.1 head with a Content-Length or chunked body (HTTP/2
    /// trailers become chunked trailers), or answers the error it ended with.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FinishHttp2Async(Http2Exchange attempt, Endpoint endpoint, Cluster cluster, RouteRuntime action, RouteMetrics routeMetrics, bool hasBody, bool buffered, bool downstreamKeepAlive, long started)
    {
        if (attempt.Stream is not { } stream)
        {
            return await AnswerAsync(routeMetrics, 502, ResponseFlag.UpstreamConnectFailure, started, close: (hasBody && !buffered) || !downstreamKeepAlive, action.Route.Name, cluster.Name).ConfigureAwait(false);
        }

        if (attempt.TimedOut)
        {
            return await AnswerAsync(routeMetrics, 504, ResponseFlag.UpstreamTimeout, started, close: true, action.Route.Name, cluster.Name).ConfigureAwait(false);
        }

        if (attempt.Outcome.Failure != AttemptFailure.None)
        {
            if (_uploadTooLarge)
            {
                return await AnswerAsync(routeMetrics, 413, ResponseFlag.RequestTooLarge, started, close: true, action.Route.Name, cluster.Name).ConfigureAwait(false);
            }

            if (_uploadError != Http1ParseError.None)
            {
                // The client's chunked body broke the framing rules mid-stream; the upstream stream was reset.
                await RejectAsync(_uploadError.ToStatusCode(), _uploadError.ToFlag(), ResponseFlag.DownstreamProtocolError).ConfigureAwait(false);
                return false;
            }

            return await AnswerAsync(routeMetrics, 502, ResponseFlag.UpstreamReset, started, close: true, action.Route.Name, cluster.Name).ConfigureAwait(false);
        }

        Http2HeaderList response = stream.ReceivedHeaders;
        int status = response.Status;
        bool bodiless = _request.Method == RequestMethod.Head || status is 204 or 304;
        bool hasLength = response.TryGetValue("content-length"u8, out _);
        bool chunked = !bodiless && !hasLength && _request.Version == Http1Version.Http11;
        bool keepAlive = downstreamKeepAlive && !_draining && (bodiless || hasLength || chunked);
        WriteHttp1Response(response, status, chunked, keepAlive);
        long responseBytes = 0;
        bool complete = true;
        ResponseFlag flag = ResponseFlag.None;
        try
        {
            if (!bodiless)
            {
                (complete, responseBytes) = await RelayHttp2BodyAsync(stream, chunked).ConfigureAwait(false);
            }
            else
            {
                complete = !(await _output.FlushAsync().ConfigureAwait(false)).IsCompleted;
            }

            if (!complete)
            {
                flag = await ClientWentAwayAsync().ConfigureAwait(false) ? ResponseFlag.DownstreamDisconnect : ResponseFlag.UpstreamReset;
            }
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            // Writing to the client failed; the relay's reads of the upstream stream catch their own errors.
            complete = false;
            flag = ResponseFlag.DownstreamDisconnect;
        }

        if (flag == ResponseFlag.DownstreamDisconnect)
        {
            // Nobody is left to take the rest of the response: the upstream stream is cancelled, not left to finish.
            await stream.Connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
        }

        Task<bool>? upload = attempt.Upload;
        bool uploaded = buffered || upload is null || (upload.IsCompleted && await upload.ConfigureAwait(false));
        Record(routeMetrics, status, flag, started,
            _request.HeadLength + stream.SentBodyBytes, responseBytes, action.Route.Name, cluster.Name, endpoint);
        return complete && keepAlive && uploaded;
    }

    /// <summary>
    /// Relays an interim response of the upstream stream to the client as an HTTP/1.1 1xx head (RFC 9110 15.2).
    /// Runs on the upstream connection's read loop while the forwarder waits for the final response, so nothing
    /// else writes to the client meanwhile; the flush is awaited by the forwarder before it writes.
    /// </summary>
    void IHttp2InterimResponseSink.OnInterimResponse(Http2Stream stream, Http2HeaderList headers)
    {
        // 15.2: no 1xx to an HTTP/1.0 client. A flush still pending means the client is not reading: an interim
        // response more or less changes nothing, and a second flush may not start before the first ends.
        if (_request.Version != Http1Version.Http11 || !_interimFlush.IsCompleted)
        {
            return;
        }

        PipeWriter output = _output;
        WriteStatusLine(output, headers.Status);
        for (int i = 0; i < headers.Count; i++)
        {
            output.Write(headers.GetName(i));
            output.Write(": "u8);
            output.Write(headers.GetValue(i));
            output.Write("\r\n"u8);
        }

        output.Write("\r\n"u8);
        _interimFlush = output.FlushAsync();
    }

    private async ValueTask AwaitInterimFlushAsync()
    {
        ValueTask<FlushResult> pending = _interimFlush;
        _interimFlush = default;
        if (!pending.IsCompleted)
        {
            await pending.ConfigureAwait(false);
        }
        else
        {
            _ = pending.Result;
        }
    }

    /// <summary>Sends the buffered request body (<see cref="RetryBodyBuffer"/>) with END_STREAM; it stays buffered for a retry.</summary>
    private async Task<bool> SendBufferedBodyAsync(Http2Stream stream)
    {
        try
        {
            return await stream.Connection.SendDataAsync(stream, new ReadOnlySequence<byte>(_retryBody.Buffered), endStream: true).ConfigureAwait(false);
        }
        catch (Exception ex) when (Http2Connection.IsConnectionLoss(ex))
        {
            return false;
        }
    }

    private void BuildHttp2Request(Http2HeaderList headers, bool hasBody, ReadOnlySpan<byte> scheme)
    {
        bool replaceTrace = RequestTrace.PropagatesOwnSpan(_telemetry); // else the client's trace context crosses untouched
        headers.Reset();
        headers.Add(":method"u8, _request.MethodBytes);
        headers.Add(":scheme"u8, scheme);
        headers.Add(":authority"u8, _request.Host.IsEmpty ? _request.Authority : _request.Host);
        headers.Add(":path"u8, _request.PathAndQuery.IsEmpty ? "/"u8 : _request.PathAndQuery);
        ReadOnlySpan<Http1HeaderField> fields = _request.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            Http1HeaderField field = fields[i];
            if (field.IsHopByHop || field.Kind is KnownHeader.Host or KnownHeader.TransferEncoding ||
                (field.Kind == KnownHeader.ContentLength && (!hasBody || _request.IsChunked)) ||
                field.Kind is KnownHeader.XForwardedFor or KnownHeader.XForwardedProto ||
                (field.Kind is KnownHeader.TraceParent or KnownHeader.B3 && replaceTrace) ||
                (field.Kind == KnownHeader.XForwardedHost && !_request.Host.IsEmpty))
            {
                continue; // replaced below: the upstream sees the proxy's span, not the client's
            }

            headers.AddLowercase(_request.GetName(i), _request.GetValue(i));
        }

        // As the HTTP/1.1 head writer does: the whole X-Forwarded-For chain, X-Forwarded-Host from Host, replacing the client's.
        Http2ForwardedFields.Add(headers, _request, _clientAddressText, ForwardedScheme.OfDownstream(_downstreamTls), _request.Host);
        if (replaceTrace)
        {
            Span<byte> trace = stackalloc byte[RequestTrace.B3Length];
            headers.Add("traceparent"u8, trace[.._trace.FormatTraceParent(trace)]);
            if (_trace.FromB3)
            {
                headers.Add("b3"u8, trace[.._trace.FormatB3(trace)]);
            }
        }

        if (!_request.Contains(KnownHeader.XRequestId))
        {
            headers.Add("x-request-id"u8, GeneratedRequestId);
        }
    }

    private void WriteHttp1Response(Http2HeaderList response, int status, bool chunked, bool keepAlive)
    {
        PipeWriter output = _output;
        WriteStatusLine(output, status);
        for (int i = 0; i < response.Count; i++)
        {
            output.Write(response.GetName(i));
            output.Write(": "u8);
            output.Write(response.GetValue(i));
            output.Write("\r\n"u8);
        }

        if (chunked)
        {
            output.Write("transfer-encoding: chunked\r\n"u8);
        }

        output.Write(keepAlive ? "\r\n"u8 : "connection: close\r\n\r\n"u8);
    }

    private static void WriteStatusLine(PipeWriter output, int status)
    {
        output.Write("HTTP/1.1 "u8);
        Span<byte> digits = stackalloc byte[3];
        Utf8Formatter.TryFormat(status, digits, out _);
        output.Write(digits);
        output.Write(" "u8);
        output.Write(ReasonPhrases.Get(status));
        output.Write("\r\n"u8);
    }

    /// <summary>
    /// Streams the HTTP/1.1 request body into the upstream stream, then END_STREAM. Every byte taken from the client
    /// is recorded in <paramref name="replay"/>; on a retry the bytes earlier attempts took go first and the body
    /// continues where they ended (the content-length left, the chunked decoder's state). A cancelled read (the
    /// forwarder ending the upload) takes nothing, so those bytes are still there for a retry.
    /// </summary>
    private async Task<bool> UploadToHttp2Async(Http2Stream stream, StreamedBodyReplay replay)
    {
        Http2Connection connection = stream.Connection;
        try
        {
            if (!_request.IsChunked)
            {
                long remaining = _request.ContentLength - _uploadedBytes;
                if (!await replay.SendHeldAsync(stream, endStream: remaining == 0).ConfigureAwait(false))
                {
                    return false;
                }

                while (remaining > 0)
                {
                    ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
                    if (result.IsCanceled)
                    {
                        _input.AdvanceTo(result.Buffer.Start);
                        return false;
                    }

                    ReadOnlySequence<byte> buffer = result.Buffer.Length > remaining ? result.Buffer.Slice(0, remaining) : result.Buffer;
                    remaining -= buffer.Length;
                    bool sent = await connection.SendDataAsync(stream, buffer, endStream: remaining == 0).ConfigureAwait(false);

                    // Taken from the client whether or not the send got through: a retry sends it.
                    replay.Record(buffer);
                    _input.AdvanceTo(buffer.End);
                    _uploadedBytes += buffer.Length;

                    if (!sent)
                    {
                        return false;
                    }

                    if (remaining > 0 && result.IsCompleted)
                    {
                        // The client closed mid-body: nothing a retry could complete, and the upstream would wait
                        // for the rest; its stream is reset (RFC 9113 8.1), which also ends the response wait.
                        replay.Discard();
                        await connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                        return false;
                    }
                }

                return true;
            }

            bool ended = _requestChunks.IsCompleted;
            if (!await replay.SendHeldAsync(stream, endStream: ended).ConfigureAwait(false))
            {
                return false;
            }

            if (ended)
            {
                return true;
            }

            while (true)
            {
                ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    _input.AdvanceTo(buffer.Start);
                    return false;
                }

                ChunkedDecodeStatus status;
                SequencePosition consumed;
                while ((status = DecodeRequestChunk(buffer, out ReadOnlySequence<byte> data, out consumed)) == ChunkedDecodeStatus.Data)
                {
                    _uploadedBytes += data.Length;
                    if (_maxBodyBytes > 0 && _uploadedBytes > _maxBodyBytes)
                    {
                        // Over the listener's limit mid-stream: the upstream stream is reset, the client gets 413.
                        _input.AdvanceTo(consumed);
                        _uploadTooLarge = true;
                        replay.Discard();
                        await connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                        return false;
                    }

                    bool sent = await connection.SendDataAsync(stream, data, endStream: false).ConfigureAwait(false);
                    replay.Record(data); // the decoder has taken the chunk: a retry sends it
                    buffer = buffer.Slice(consumed);
                    if (!sent)
                    {
                        _input.AdvanceTo(consumed);
                        return false;
                    }
                }

                _input.AdvanceTo(consumed, buffer.End);
                if (status == ChunkedDecodeStatus.Completed)
                {
                    return await connection.SendDataAsync(stream, ReadOnlySequence<byte>.Empty, endStream: true).ConfigureAwait(false);
                }

                if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted)
                {
                    // A malformed or truncated body: nothing a retry could complete. The upstream stream is reset
                    // (RFC 9113 8.1: the request can never be complete), which also ends the wait for its response;
                    // a malformed one is answered 400.
                    replay.Discard();
                    if (status == ChunkedDecodeStatus.Invalid)
                    {
                        _uploadError = _requestChunks.Error;
                    }

                    await connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                    return false;
                }
            }
        }
        catch (Exception ex) when (Http2Connection.IsConnectionLoss(ex))
        {
            // The client went away, or a send threw before what it took was recorded: no replay.
            replay.Discard();
            return false;
        }
    }

    private ChunkedDecodeStatus DecodeRequestChunk(in ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkedDecodeStatus status = _requestChunks.Decode(ref reader, out data);
        consumed = reader.Position;
        return status;
    }

    /// <summary>Copies the upstream stream's body to the client (chunked or as is) and its trailers as chunked trailers.</summary>
    private async ValueTask<(bool Complete, long Bytes)> RelayHttp2BodyAsync(Http2Stream stream, bool chunked)
    {
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await stream.Input.ReadAsync().ConfigureAwait(false);
            }
            catch (Http2StreamResetException)
            {
                await _output.FlushAsync().ConfigureAwait(false);
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (!buffer.IsEmpty)
            {
                if (chunked)
                {
                    ChunkedEncoder.WriteChunk(_output, buffer);
                }
                else
                {
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        _output.Write(segment.Span);
                    }
                }
            }

            int length = (int)buffer.Length;
            bytes += length;
            stream.Input.AdvanceTo(buffer.End);
            _activity.Value = Environment.TickCount64;
            if (result.IsCompleted)
            {
                if (chunked)
                {
                    _output.Write("0\r\n"u8);
                    if (stream.HasTrailers)
                    {
                        Http2HeaderList trailers = stream.ReceivedTrailers;
                        for (int i = 0; i < trailers.Count; i++)
                        {
                            _output.Write(trailers.GetName(i));
                            _output.Write(": "u8);
                            _output.Write(trailers.GetValue(i));
                            _output.Write("\r\n"u8);
                        }
                    }

                    _output.Write("\r\n"u8);
                }

                FlushResult done = await _output.FlushAsync().ConfigureAwait(false);
                return (!done.IsCompleted, bytes);
            }

            FlushResult flush = await _output.FlushAsync().ConfigureAwait(false);
            await stream.Connection.OnDataConsumed(stream, length).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                return (false, bytes);
            }
        }
    }
}
