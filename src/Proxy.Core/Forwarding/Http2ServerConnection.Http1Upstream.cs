using System.Buffers.Text;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
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

        // The route timeout (or the client's tighter grpc-timeout) is a deadline for all the tries and the backoff
        // between them, from here; each try waits for its response head at most the per-try timeout or the time left,
        // whichever is shorter.
        RequestDeadline deadline = RequestDeadline.StartNow(timeout, policy?.PerTryTimeout);
        Http1UpstreamAttempts attempts = exchange.Http1Attempts;
        attempts.Begin(this, stream, exchange, cluster, metrics, method, hasBody, inHand, contentLength, chunked, grpc, started);
        try
        {
            await AttemptDriver.RunAsync(attempts, action, cluster, first, PickContextFor(cluster, request), deadline, method.IsIdempotent(), _metrics).ConfigureAwait(false);
        }
        finally
        {
            attempts.End();
        }
    }

    /// <summary>One try on an HTTP/1.1 connection: the connection, the request on it, and the response head (or why there is none).</summary>
    internal struct Http1Attempt
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
    internal async ValueTask<Http1Attempt> AttemptHttp1Async(Http2Stream stream, Http2StreamExchange exchange, Endpoint endpoint, Cluster cluster, bool hasBody, bool inHand, long contentLength, bool chunked, bool idempotent, RequestDeadline deadline)
    {
        var attempt = default(Http1Attempt);
        bool staleRetryable = (!hasBody || inHand) && idempotent;
        while (true)
        {
            UpstreamConnection? upstream = endpoint.Pool.TryRent(Environment.TickCount64)
                ?? await Http1ServerConnection.ConnectAsync(endpoint, cluster, deadline.ConnectTimeout(cluster.ConnectTimeout)).ConfigureAwait(false);
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
                WriteHttp1RequestHead(upstream.Output, stream.ReceivedHeaders, exchange, hasBody, contentLength, chunked, endpoint: upstream.Endpoint);
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
    internal async ValueTask<bool> FinishHttp1Async(Http2Stream stream, Http2StreamExchange exchange, Http1Attempt attempt, RequestMethod method, RouteMetrics metrics, bool grpc, long started)
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
        var lookup = response;
        bool changed = exchange.PrepareResponse(ref lookup, upstream.Endpoint);
        StageResponseHead(headers, response, keepContentLength: framing is Http1BodyFraming.ContentLength or Http1BodyFraming.None, changed ? exchange.ResponseChanges!.Removed : null);
        if (changed)
        {
            exchange.ResponseHeadersToAdd.AddTo(headers);
        }

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
    internal async ValueTask EndHttp1AttemptAsync(Http2Stream stream, Http1Attempt attempt, bool reusable)
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

                Http1ResponseHeadStep.Outcome step = Http1ResponseHeadStep.Parse(input, response, result, ref sawAnyByte, out head);
                if (step == Http1ResponseHeadStep.Outcome.Interim)
                {
                    // RFC 9113 8.1: each interim response is a HEADERS block without END_STREAM, as many as come
                    // before the final one. RFC 9110 8.6: a 1xx has no content, so no Content-Length goes with it.
                    Http2HeaderList interim = stream.Outgoing;
                    interim.Reset();
                    StageResponseHead(interim, response, keepContentLength: false, removed: null);
                    RelayInterimResponse(stream, interim);
                    continue;
                }

                if (step == Http1ResponseHeadStep.Outcome.Done)
                {
                    break;
                }
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
}
