using System.Buffers;
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
            RequestChunks.Reset();
        }

        // The route timeout is a deadline for all the tries and the backoff between them, from here; each try waits
        // for its response headers at most the per-try timeout or the time left, whichever is shorter.
        RequestDeadline deadline = RequestDeadline.StartNow(action.Timeout, policy?.PerTryTimeout);
        var attempts = _http2Attempts ??= new Http2UpstreamAttempts(this);
        attempts.Begin(cluster, action, routeMetrics, replay, hasBody, buffered, keepAlive, started);
        try
        {
            PickContext pick = PickContextFor(cluster);
            return await AttemptDriver.RunAsync(attempts, action, cluster, cluster.Pick(pick), pick, deadline, _request.Method.IsIdempotent(), _metrics).ConfigureAwait(false);
        }
        finally
        {
            attempts.End();
            replay?.Reset();
        }
    }

    private Http2UpstreamAttempts? _http2Attempts; // made by the first request to an HTTP/2 cluster, then reused

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
        BuildHttp2Request(headers, hasBody, ForwardedScheme.OfUpstream(cluster, endpoint), endpoint);
        _interimFlush = default;
        AwaitingUpstream(true); // the connect and the wait for the response headers: not idle (see CheckIdle)
        Http2Stream? stream = await pool.OpenStreamAsync(endpoint, headers, endStream: !hasBody, cluster.ConnectTimeout, cluster.Metrics, cluster.Settings.TlsFor(endpoint), interimSink: this,
            waitLimit: deadline.ConnectTimeout(cluster.ConnectTimeout)).ConfigureAwait(false);
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

        bool goneAfterUpload = attempt.Upload is not null && !buffered && await StopWatchAfterUploadAsync().ConfigureAwait(false);
        attempt.ClientGone = (watchClient && await StopWatchingClientAsync(watch).ConfigureAwait(false)) || responseTimeout.DownstreamGone || _clientLeftMidBody || goneAfterUpload;
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
        WriteHttp1Response(response, status, chunked, keepAlive, endpoint);
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
}
