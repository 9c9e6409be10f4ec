using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// h2 -> h1: the request head is built from the pseudo-headers (Host from :authority), TE dropped, the body
    /// framed with Content-Length when the client gave one and chunked otherwise (request trailers become chunked
    /// trailers); the response head becomes HEADERS with lowercased names and chunked trailers become a trailing
    /// HEADERS frame. Interim responses (100, 103) are relayed as they arrive; a 101 is answered 502. Failed attempts
    /// are retried as on the other pairings (<see cref="RetryGate"/>) while the request can be sent again: it has no
    /// body, or its body arrived whole before the first attempt.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask ForwardToHttp1Async(Http2Stream stream, Http2StreamExchange exchange, Endpoint first, Cluster cluster, RouteRuntime action, RouteMetrics metrics, TimeSpan? timeout, bool grpc, long started)
    {
        Http2HeaderList request = stream.ReceivedHeaders;
        long contentLength = -1;
        if (request.TryGetValue("content-length"u8, out ReadOnlySpan<byte> lengthText) &&
            (!Utf8Parser.TryParse(lengthText, out contentLength, out int used) || used != lengthText.Length || contentLength < 0))
        {
            await ResetAsync(stream, Http2ErrorCode.ProtocolError).ConfigureAwait(false);
            return;
        }

        RetryPolicy? policy = action.Retry;
        action.Budget?.Deposit();

        // As on the h2 -> h2 path: when the route retries, a small body is awaited whole before the first attempt so
        // a retry can send it again (the HTTP/1.1 forwarder buffers one the same way); larger or unannounced bodies
        // stream once, and so does the body of a client waiting for 100 Continue, which sends none until the upstream
        // asks for it (RFC 9110 10.1.1). An empty one (content-length: 0) is only its END_STREAM away.
        long declared = stream.DeclaredContentLength;
        bool awaitBody = declared == 0 ||
            (policy is not null && declared is > 0 and <= RetryBodyBuffer.DefaultLimit && !request.TryGetValue("expect"u8, out _));
        if (!stream.EndStreamReceived && awaitBody && !await AwaitWholeBodyAsync(stream).ConfigureAwait(false))
        {
            RecordDownstreamDisconnect(stream, metrics, grpc, started); // the client reset the stream
            return;
        }

        bool hasBody = !(stream.EndStreamReceived && stream.ReceivedBodyBytes == 0 && !stream.HasTrailers);
        bool inHand = stream.EndStreamReceived;
        bool chunked = hasBody && contentLength < 0;
        RequestMethod method = RequestMethods.Parse(request.Method);
        bool idempotent = method.IsIdempotent();

        // The route timeout (or the client's tighter grpc-timeout) is a deadline for all the tries and the backoff
        // between them, from here; each try waits for its response head at most the per-try timeout or the time left,
        // whichever is shorter.
        RequestDeadline deadline = RequestDeadline.StartNow(timeout, policy?.PerTryTimeout);

        Endpoint endpoint = first;
        Endpoint? triedLast = null, triedBefore = null;
        int retries = 0;
        bool holdingRetry = false;
        try
        {
            while (true)
            {
                exchange.OnAttempt(endpoint);
                endpoint.OnRequestStarted();
                long latencyStart = Stopwatch.GetTimestamp();
                Http1Attempt attempt = default;
                bool reusable = false;
                try
                {
                    attempt = await AttemptHttp1Async(stream, exchange, endpoint, cluster, hasBody, inHand, contentLength, chunked, idempotent, deadline).ConfigureAwait(false);
                    if (ClientGone(stream))
                    {
                        // The client reset the stream, which cancelled the wait: the connection is closed, not reused
                        // (a cancellation may still be pending on it), and nobody is left to answer.
                        RecordDownstreamDisconnect(stream, metrics, grpc, started);
                        return;
                    }

                    if (holdingRetry)
                    {
                        cluster.Resilience.Breaker?.Release(CircuitBreakerResource.Retries);
                        holdingRetry = false;
                    }

                    cluster.Resilience.Outliers?.Report(endpoint.Health, attempt.Outcome);

                    // A retry needs time left before the deadline: a timeout with none left was the deadline's, not the
                    // per-try one.
                    bool replayable = !hasBody || inHand || attempt.Outcome.Failure == AttemptFailure.ConnectFailure;
                    if (policy is null || !deadline.HasTimeLeft() ||
                        !RetryGate.MayRetry(policy, action, cluster, attempt.Outcome, retries, idempotent, replayable))
                    {
                        reusable = await FinishHttp1Async(stream, exchange, attempt, method, metrics, grpc, started).ConfigureAwait(false);
                        return;
                    }

                    holdingRetry = true;
                    retries++;
                }
                finally
                {
                    await EndHttp1AttemptAsync(stream, attempt, reusable).ConfigureAwait(false);
                    endpoint.OnRequestCompletedSince(latencyStart);
                }

                await Task.Delay(deadline.CapBackoff(policy.Backoff(retries, SharedRandomSource.Instance), out bool reachesDeadline)).ConfigureAwait(false);
                if (reachesDeadline || !deadline.HasTimeLeft())
                {
                    // The deadline passed in the backoff: no further try (gRPC: DEADLINE_EXCEEDED).
                    await AnswerAsync(stream, metrics, 504, ResponseFlag.UpstreamTimeout, grpc, started).ConfigureAwait(false);
                    return;
                }

                triedBefore = triedLast;
                triedLast = endpoint;
                if (RetryGate.PickForAttempt(cluster, PickContextFor(cluster, request), triedLast, triedBefore) is not { } next)
                {
                    await AnswerAsync(stream, metrics, 503, ResponseFlag.NoHealthyEndpoint, grpc, started).ConfigureAwait(false);
                    return;
                }

                endpoint = next;
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

    /// <summary>One try on an HTTP/1.1 connection: the connection, the request on it, and the response head (or why there is none).</summary>
    private struct Http1Attempt
    {
        public UpstreamConnection? Upstream;
        public Task<bool>? Upload;
        public HeadReadResult Head;
        public AttemptOutcome Outcome;
    }

    /// <summary>
    /// One try: a connection (pooled or new), the request head and body on it, and the response head, which stays
    /// parsed in the exchange's <see cref="Http2StreamExchange.ResponseHead"/>. A request that is safe to repeat and
    /// whose body is in hand (or that has none) gets a second connection, whatever the route's policy, when a pooled
    /// one turns out to have been closed by the upstream before any response byte, as the HTTP/1.1 forwarder does.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<Http1Attempt> AttemptHttp1Async(Http2Stream stream, Http2StreamExchange exchange, Endpoint endpoint, Cluster cluster, bool hasBody, bool inHand, long contentLength, bool chunked, bool idempotent, RequestDeadline deadline)
    {
        var attempt = default(Http1Attempt);
        bool staleRetryable = (!hasBody || inHand) && idempotent;
        while (true)
        {
            UpstreamConnection? upstream = endpoint.Pool.TryRent(Environment.TickCount64)
                ?? await Http1ServerConnection.ConnectAsync(endpoint, cluster).ConfigureAwait(false);
            if (upstream is null)
            {
                attempt.Head = HeadReadResult.Closed;
                attempt.Outcome = AttemptOutcome.ConnectFailure;
                return attempt;
            }

            attempt.Upstream = upstream;
            upstream.Requests++;
            FlushResult flush;
            try
            {
                WriteHttp1RequestHead(upstream.Output, stream.ReceivedHeaders, exchange.Trace, hasBody, contentLength, chunked);
                if (hasBody && inHand)
                {
                    WriteBodyInHand(upstream.Output, stream, chunked);
                }

                flush = await upstream.Output.FlushAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsConnectionLoss(ex))
            {
                // The upstream's send side already failed (its error is latched in the pipe): the attempt's failure,
                // like a close before any response byte (retried or answered 502), never a reset of the client's stream.
                flush = new FlushResult(isCanceled: false, isCompleted: true);
            }

            attempt.Upload = hasBody && !inHand && !flush.IsCompleted ? UploadToHttp1Async(stream, upstream.Output, chunked) : null;
            attempt.Head = flush.IsCompleted
                ? HeadReadResult.Closed
                : await ReadHttp1ResponseHeadAsync(upstream.Input, exchange, stream, deadline.TryTimeout()).ConfigureAwait(false); // the connect counts against the deadline
            if (attempt.Head == HeadReadResult.Closed && upstream.IsReused && staleRetryable && !ClientGone(stream))
            {
                upstream.Dispose();
                attempt.Upstream = null;
                _metrics.UpstreamRetries.WithLabels(cluster.Name).Increment();
                continue;
            }

            break;
        }

        // RFC 9113 8.6: HTTP/2 has no 101 (Switching Protocols). No Upgrade crosses from an HTTP/2 request (8.2.2),
        // so the upstream switched on its own, and what follows on its connection is nothing a client can be sent.
        Http1ResponseHead response = exchange.ResponseHead;
        if (attempt.Head == HeadReadResult.Parsed && response.StatusCode == 101)
        {
            attempt.Head = HeadReadResult.Invalid;
        }

        attempt.Outcome = attempt.Head switch
        {
            HeadReadResult.Parsed => AttemptOutcome.Response(response.StatusCode,
                response.TryGetValue("grpc-status"u8, out ReadOnlySpan<byte> grpcStatus) ? RetryPolicy.ParseGrpcStatus(grpcStatus) : AttemptOutcome.NoGrpcStatus),
            HeadReadResult.TimedOut => AttemptOutcome.PerTryTimeout,
            _ => AttemptOutcome.Reset,
        };
        return attempt;
    }

    /// <summary>
    /// Relays the last attempt's response (its head is in the exchange), or answers the error it ended with.
    /// True when the upstream connection can go back to the pool.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FinishHttp1Async(Http2Stream stream, Http2StreamExchange exchange, Http1Attempt attempt, RequestMethod method, RouteMetrics metrics, bool grpc, long started)
    {
        if (attempt.Upstream is not { } upstream)
        {
            await AnswerAsync(stream, metrics, 502, ResponseFlag.UpstreamConnectFailure, grpc, started).ConfigureAwait(false);
            return false;
        }

        if (attempt.Head != HeadReadResult.Parsed)
        {
            ResponseFlag flag = attempt.Head switch
            {
                HeadReadResult.TimedOut => ResponseFlag.UpstreamTimeout,
                HeadReadResult.Invalid => ResponseFlag.BadUpstreamResponse,
                _ => ResponseFlag.UpstreamReset,
            };
            await AnswerAsync(stream, metrics, flag == ResponseFlag.UpstreamTimeout ? 504 : 502, flag, grpc, started).ConfigureAwait(false);
            return false;
        }

        Http1ResponseHead response = exchange.ResponseHead;
        Http1BodyFraming framing = response.GetBodyFraming(method);
        Http2HeaderList headers = stream.Outgoing;
        headers.Reset();
        StageResponseHead(headers, response, keepContentLength: framing is Http1BodyFraming.ContentLength or Http1BodyFraming.None);
        bool noBody = framing == Http1BodyFraming.None || (framing == Http1BodyFraming.ContentLength && response.ContentLength == 0);
        if (!await SendHeadersAsync(stream, headers, noBody).ConfigureAwait(false))
        {
            RecordDownstreamDisconnect(stream, metrics, grpc, started); // the client reset the stream meanwhile
            return false;
        }

        (bool complete, long bytes) = framing switch
        {
            Http1BodyFraming.None => (true, 0L),
            Http1BodyFraming.ContentLength when response.ContentLength == 0 => (true, 0L),
            Http1BodyFraming.ContentLength => (await CopyLengthAsync(upstream.Input, stream, response.ContentLength).ConfigureAwait(false), response.ContentLength),
            Http1BodyFraming.Chunked => await CopyChunkedAsync(upstream.Input, stream, exchange.ResponseChunks).ConfigureAwait(false),
            _ => await CopyUntilCloseAsync(upstream.Input, stream).ConfigureAwait(false),
        };

        Task<bool>? upload = attempt.Upload;
        bool uploaded = upload is null || (upload.IsCompleted && await upload.ConfigureAwait(false));
        bool reusable = complete && uploaded && response.KeepAlive && framing is Http1BodyFraming.None or Http1BodyFraming.ContentLength or Http1BodyFraming.Chunked;
        ResponseFlag bodyFlag = ResponseFlag.None;
        if (!complete && ClientGone(stream))
        {
            // The client reset the stream (or left) during the body: its fault (DC), not the upstream's. The upstream
            // connection, its response unfinished, is closed by the caller.
            bodyFlag = ResponseFlag.DownstreamDisconnect;
        }
        else if (!complete)
        {
            bodyFlag = ResponseFlag.UpstreamReset;
            await ResetAsync(stream, Http2ErrorCode.InternalError).ConfigureAwait(false);
        }

        Record(stream, metrics, response.StatusCode, bodyFlag, grpc, started,
            stream.ReceivedHeaders.Size + stream.ReceivedBodyBytes, response.HeadLength + bytes, exchange.Endpoint);
        return reusable;
    }

    /// <summary>
    /// Ends an attempt's use of its connection: back to the pool when <paramref name="reusable"/>, closed otherwise.
    /// An upload still running (the exchange ended before the request body did) is stopped first.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask EndHttp1AttemptAsync(Http2Stream stream, Http1Attempt attempt, bool reusable)
    {
        if (attempt.Upstream is not { } upstream)
        {
            return; // no connection, so no upload either
        }

        Task<bool>? upload = attempt.Upload;
        if (reusable)
        {
            upstream.Endpoint.Pool.Return(upstream, Environment.TickCount64);
        }
        else if (upload is null || upload.IsCompleted)
        {
            upstream.Close(); // nothing else uses it: the orderly close (Transport/SocketClose)
        }
        else
        {
            upstream.Dispose(); // the upload may be writing to it right now
        }

        if (upload is { IsCompleted: false })
        {
            // The stream goes back to the pool once the caller releases it, so the upload must be over first: the
            // reset ends its body reads, the cancelled read wakes one in progress, and the upstream pipe it writes to
            // is gone. (A body being uploaded is not in hand, so no retry follows that would need it.)
            await ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
            stream.Input.CancelPendingRead();
            await upload.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes a request body that arrived whole (END_STREAM received), as it is or as one chunk and the last chunk
    /// with the trailers, without consuming it from the stream: a retry writes it again.
    /// </summary>
    private static void WriteBodyInHand(PipeWriter output, Http2Stream stream, bool chunked)
    {
        // After END_STREAM the body pipe is complete and stays so (a later reset does not fail it, see
        // Http2Stream.Abort): the read returns at once.
        if (!stream.Input.TryRead(out ReadResult result))
        {
            return;
        }

        ReadOnlySequence<byte> body = result.Buffer;
        if (chunked)
        {
            ChunkedEncoder.WriteChunk(output, body);
            WriteLastChunk(output, stream);
        }
        else
        {
            foreach (ReadOnlyMemory<byte> segment in body)
            {
                output.Write(segment.Span);
            }
        }

        stream.Input.AdvanceTo(body.Start, body.End);
    }
    /// <summary>
    /// "METHOD path HTTP/1.1", Host from :authority, the regular fields (cookies joined, 8.2.3; x-request-id among
    /// them, see <see cref="AddRequestIdIfMissing"/>), framing, proxy fields (X-Forwarded-Host from the host), the
    /// trace context of the proxy's span in place of the client's (traceparent, and b3 when the client spoke B3), as
    /// the HTTP/1.1 forwarder writes, and <paramref name="connection"/> when given (a mirrored copy's "close").
    /// </summary>
    private void WriteHttp1RequestHead(IBufferWriter<byte> output, Http2HeaderList request, in RequestTrace trace, bool hasBody, long contentLength, bool chunked, ReadOnlySpan<byte> connection = default)
    {
        Write(output, request.Method);
        Write(output, " "u8);
        Write(output, request.Path);
        Write(output, " HTTP/1.1\r\nhost: "u8);
        ReadOnlySpan<byte> authority = request.Authority;
        if (authority.IsEmpty)
        {
            request.TryGetValue("host"u8, out authority);
        }

        Write(output, authority);
        Write(output, "\r\n"u8);
        bool cookieWritten = false;
        bool replaceTrace = ReplacesTraceContext;
        for (int i = 0; i < request.Count; i++)
        {
            ReadOnlySpan<byte> name = request.GetName(i);
            KnownHeader kind = KnownHeaders.Classify(name);
            if (kind is KnownHeader.Host or KnownHeader.TE or KnownHeader.ContentLength || IsReplacedRequestField(name, hasHost: !authority.IsEmpty, replaceTrace))
            {
                continue;
            }

            if (name.SequenceEqual("cookie"u8))
            {
                if (!cookieWritten)
                {
                    WriteJoinedCookies(output, request);
                    cookieWritten = true;
                }

                continue;
            }

            WriteField(output, name, request.GetValue(i));
        }

        if (hasBody)
        {
            if (chunked)
            {
                Write(output, "transfer-encoding: chunked\r\n"u8);
            }
            else
            {
                Span<byte> digits = stackalloc byte[20];
                Utf8Formatter.TryFormat(contentLength, digits, out int written);
                WriteField(output, "content-length"u8, digits[..written]);
            }
        }

        // The client's whole chain, every field in order, then its address (Http2ForwardedFields for HTTP/2 upstreams).
        Write(output, "x-forwarded-for: "u8);
        for (int i = 0; i < request.Count; i++)
        {
            if (Http2ForwardedFields.IsClientHop(request, i))
            {
                Write(output, request.GetValue(i));
                Write(output, ", "u8);
            }
        }

        Write(output, _clientAddressText);
        Write(output, "\r\n"u8);
        WriteField(output, "x-forwarded-proto"u8, ForwardedProto);
        if (!authority.IsEmpty)
        {
            WriteField(output, "x-forwarded-host"u8, authority);
        }

        if (!connection.IsEmpty)
        {
            WriteField(output, "connection"u8, connection);
        }

        if (replaceTrace)
        {
            Write(output, "traceparent: "u8);
            Span<byte> value = stackalloc byte[RequestTrace.B3Length];
            Write(output, value[..trace.FormatTraceParent(value)]);
            if (trace.FromB3)
            {
                Write(output, "\r\nb3: "u8);
                Write(output, value[..trace.FormatB3(value)]);
            }

            Write(output, "\r\n"u8);
        }

        Write(output, "\r\n"u8);
    }

    private static void WriteJoinedCookies(IBufferWriter<byte> output, Http2HeaderList request)
    {
        Write(output, "cookie: "u8);
        bool first = true;
        for (int i = 0; i < request.Count; i++)
        {
            if (request.GetName(i).SequenceEqual("cookie"u8))
            {
                if (!first)
                {
                    Write(output, "; "u8);
                }

                Write(output, request.GetValue(i));
                first = false;
            }
        }

        Write(output, "\r\n"u8);
    }

    private static void WriteField(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Write(output, name);
        Write(output, ": "u8);
        Write(output, value);
        Write(output, "\r\n"u8);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty)
        {
            output.Write(bytes);
        }
    }

    /// <summary>
    /// Stages an HTTP/1.1 response head as an HTTP/2 block: :status, then the fields with lowercased names (RFC 9113
    /// 8.2.1), without the hop-by-hop and connection-specific ones (8.2.2), and without a Content-Length unless it
    /// describes the body that follows (<paramref name="keepContentLength"/>).
    /// </summary>
    private static void StageResponseHead(Http2HeaderList headers, Http1ResponseHead response, bool keepContentLength)
    {
        headers.AddStatus(response.StatusCode);
        ReadOnlySpan<Http1HeaderField> fields = response.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            Http1HeaderField field = fields[i];
            if (field.IsHopByHop || field.Kind == KnownHeader.TransferEncoding || (field.Kind == KnownHeader.ContentLength && !keepContentLength))
            {
                continue;
            }

            headers.AddLowercase(response.GetName(i), response.GetValue(i));
        }
    }

    /// <summary>
    /// Reads the upstream's final response head into the exchange's <see cref="Http2StreamExchange.ResponseHead"/>.
    /// Interim ones (100 Continue, 103 Early Hints) are relayed to the client on the way, as a proxy must (RFC 9110
    /// 15.2); a 101 is returned like a final head, for the caller to refuse. The timeout, when there is one, cancels
    /// the pending read (<see cref="ResponseHeadTimeout.Arm(PipeReader, TimeSpan?)"/>), so waiting allocates no token
    /// source.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<HeadReadResult> ReadHttp1ResponseHeadAsync(PipeReader input, Http2StreamExchange exchange, Http2Stream stream, TimeSpan? timeout)
    {
        Http1ResponseHead response = exchange.ResponseHead;
        bool sawAnyByte = false;
        HeadReadResult head;
        bool timedOut;
        exchange.ResponseTimeout.Arm(input, timeout);
        try
        {
            while (true)
            {
                response.Reset();
                ReadResult result;
                try
                {
                    result = await input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
                {
                    head = sawAnyByte ? HeadReadResult.Truncated : HeadReadResult.Closed;
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                if (TryParseHead(response, buffer, out SequencePosition end, out Http1ParseError error))
                {
                    input.AdvanceTo(end);
                    if (response.StatusCode is >= 100 and < 200 && response.StatusCode != 101)
                    {
                        // RFC 9113 8.1: each interim response is a HEADERS block without END_STREAM, as many as come
                        // before the final one. RFC 9110 8.6: a 1xx has no content, so no Content-Length goes with it.
                        sawAnyByte = true;
                        Http2HeaderList interim = stream.Outgoing;
                        interim.Reset();
                        StageResponseHead(interim, response, keepContentLength: false);
                        RelayInterimResponse(stream, interim);
                        continue;
                    }

                    head = HeadReadResult.Parsed;
                    break;
                }

                if (error != Http1ParseError.None)
                {
                    input.AdvanceTo(buffer.Start);
                    head = HeadReadResult.Invalid;
                    break;
                }

                sawAnyByte |= !buffer.IsEmpty;
                if (result.IsCompleted || result.IsCanceled)
                {
                    // A cancelled read is the timeout's (Disarm below says so) or the client's going away (the caller
                    // checks for it).
                    input.AdvanceTo(buffer.End);
                    head = sawAnyByte ? HeadReadResult.Truncated : HeadReadResult.Closed;
                    break;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            timedOut = exchange.ResponseTimeout.Disarm();
        }

        // A timeout that fired as the head completed still counts: its cancellation may be pending on the
        // connection, which is therefore closed rather than used for the body or pooled.
        return timedOut ? HeadReadResult.TimedOut : head;
    }

    private static bool TryParseHead(Http1ResponseHead response, in ReadOnlySequence<byte> buffer, out SequencePosition end, out Http1ParseError error)
    {
        var reader = new SequenceReader<byte>(buffer);
        bool parsed = response.TryParse(ref reader, out error);
        end = reader.Position;
        return parsed;
    }

    /// <summary>Streams the downstream body to the HTTP/1.1 upstream, as it is or chunked with trailers.</summary>
    private async Task<bool> UploadToHttp1Async(Http2Stream stream, PipeWriter output, bool chunked)
    {
        try
        {
            while (true)
            {
                ReadResult result = await stream.Input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                int length = (int)buffer.Length;
                if (length > 0)
                {
                    if (chunked)
                    {
                        ChunkedEncoder.WriteChunk(output, buffer);
                    }
                    else
                    {
                        foreach (ReadOnlyMemory<byte> segment in buffer)
                        {
                            output.Write(segment.Span);
                        }
                    }
                }

                stream.Input.AdvanceTo(buffer.End);
                if (result.IsCanceled)
                {
                    return false; // the exchange ended first (see ForwardToHttp1Async)
                }

                if (result.IsCompleted)
                {
                    if (chunked)
                    {
                        WriteLastChunk(output, stream);
                    }

                    await output.FlushAsync().ConfigureAwait(false);
                    await OnDataConsumed(stream, length).ConfigureAwait(false);
                    return true;
                }

                if ((await output.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    return false;
                }

                await OnDataConsumed(stream, length).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is Http2StreamResetException || IsConnectionLoss(ex))
        {
            return false;
        }
    }

    private static void WriteLastChunk(PipeWriter output, Http2Stream stream)
    {
        if (!stream.HasTrailers || stream.ReceivedTrailers.Count == 0)
        {
            ChunkedEncoder.WriteLastChunk(output);
            return;
        }

        Write(output, "0\r\n"u8);
        Http2HeaderList trailers = stream.ReceivedTrailers;
        for (int i = 0; i < trailers.Count; i++)
        {
            WriteField(output, trailers.GetName(i), trailers.GetValue(i));
        }

        Write(output, "\r\n"u8);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CopyLengthAsync(PipeReader input, Http2Stream stream, long length)
    {
        long remaining = length;
        while (remaining > 0)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return false;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length > remaining)
            {
                buffer = buffer.Slice(0, remaining);
            }

            if (!buffer.IsEmpty)
            {
                remaining -= buffer.Length;
                bool sent = await SendDataAsync(stream, buffer, endStream: remaining == 0).ConfigureAwait(false);
                input.AdvanceTo(buffer.End);
                if (!sent)
                {
                    return false;
                }
            }
            else
            {
                input.AdvanceTo(buffer.End);
            }

            if (remaining > 0 && (result.IsCompleted || result.IsCanceled))
            {
                return false;
            }
        }

        return true;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Complete, long Bytes)> CopyChunkedAsync(PipeReader input, Http2Stream stream, ChunkedDecoder decoder)
    {
        decoder.Reset();
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            ChunkedDecodeStatus status;
            SequencePosition consumed;
            while (true)
            {
                status = DecodeOne(decoder, buffer, out ReadOnlySequence<byte> data, out consumed);
                if (status != ChunkedDecodeStatus.Data)
                {
                    break;
                }

                bytes += data.Length;
                bool sent = await SendDataAsync(stream, data, endStream: false).ConfigureAwait(false);
                buffer = buffer.Slice(consumed);
                if (!sent)
                {
                    input.AdvanceTo(consumed);
                    return (false, bytes);
                }
            }

            input.AdvanceTo(consumed, buffer.End);
            if (status == ChunkedDecodeStatus.Completed)
            {
                bool ended;
                if (decoder.Trailers.Length > 0)
                {
                    Http2HeaderList trailers = stream.Outgoing;
                    trailers.Reset();
                    for (int i = 0; i < decoder.Trailers.Length; i++)
                    {
                        if (!HopByHop.IsAlwaysHopByHop(decoder.GetTrailerName(i)))
                        {
                            trailers.AddLowercase(decoder.GetTrailerName(i), decoder.GetTrailerValue(i));
                        }
                    }

                    ended = await SendHeadersAsync(stream, trailers, endStream: true).ConfigureAwait(false);
                }
                else
                {
                    ended = await SendDataAsync(stream, ReadOnlySequence<byte>.Empty, endStream: true).ConfigureAwait(false);
                }

                return (ended, bytes);
            }

            if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted || result.IsCanceled)
            {
                return (false, bytes);
            }
        }
    }

    private static ChunkedDecodeStatus DecodeOne(ChunkedDecoder decoder, in ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkedDecodeStatus status = decoder.Decode(ref reader, out data);
        consumed = reader.Position;
        return status;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Complete, long Bytes)> CopyUntilCloseAsync(PipeReader input, Http2Stream stream)
    {
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bytes += buffer.Length;
            bool sent = await SendDataAsync(stream, buffer, endStream: result.IsCompleted).ConfigureAwait(false);
            input.AdvanceTo(buffer.End);
            if (!sent || result.IsCompleted || result.IsCanceled)
            {
                return (sent && result.IsCompleted, bytes);
            }
        }
    }
}
