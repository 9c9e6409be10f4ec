using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Headers;
using Proxy.Http.Http2;
using Proxy.Http;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// h2 -> h2: the stream is re-sent on a multiplexed upstream connection of the endpoint's pool; bodies and
    /// trailers flow both ways at once (gRPC streaming), resets are passed on, interim responses relayed. Failed
    /// attempts are retried (<see cref="RetryGate"/>) while the request can be sent again: it has no body, its body
    /// arrived whole before the first attempt, or the attempt failed before its response headers while no more of its
    /// streamed body was taken than the replay buffer holds (<see cref="StreamedBodyReplay"/>).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask ForwardToHttp2Async(Http2Stream stream, Endpoint first, Cluster cluster, RouteRuntime action, RouteMetrics metrics, TimeSpan? timeout, bool grpc, long started)
    {
        Http2HeaderList request = stream.ReceivedHeaders;
        RetryPolicy? policy = action.Retry;
        action.Budget?.Deposit();

        // When the route retries, a small body is awaited whole before the first attempt so a retry can send it
        // again, as the HTTP/1.1 forwarder buffers one; larger or unannounced bodies (gRPC streams) stream once.
        // An empty one (content-length: 0, ended by an empty DATA frame) costs no wait and keeps refused streams
        // retriable.
        long declared = stream.DeclaredContentLength;
        if (!stream.EndStreamReceived && (declared == 0 || (policy is not null && declared is > 0 and <= RetryBodyBuffer.DefaultLimit)) &&
            !await AwaitWholeBodyAsync(stream).ConfigureAwait(false))
        {
            RecordDownstreamDisconnect(stream, metrics, grpc, started); // the client reset the stream
            return;
        }

        bool bodiless = stream.EndStreamReceived && stream.ReceivedBodyBytes == 0 && !stream.HasTrailers;
        bool inHand = stream.EndStreamReceived;
        bool idempotent = RequestMethods.Parse(request.Method).IsIdempotent();

        // The route timeout (or the client's tighter grpc-timeout) is a deadline for all the tries and the backoff
        // between them, from here; each try waits for its response headers at most the per-try timeout or the time
        // left, whichever is shorter.
        RequestDeadline deadline = RequestDeadline.StartNow(timeout, policy?.PerTryTimeout);
        // A body that streams is kept as it goes, for a retry (it leaves the stream's pipe as it is sent).
        StreamedBodyReplay? replay = inHand ? null : StreamedBodyReplay.Rent();
        Http2StreamExchange exchange = Http2StreamExchange.Of(stream);
        Http2UpstreamAttempts attempts = exchange.Http2Attempts;
        attempts.Begin(this, stream, exchange, cluster, metrics, replay, bodiless, inHand, grpc, started);
        try
        {
            await AttemptDriver.RunAsync(attempts, action, cluster, first, PickContextFor(cluster, request), deadline, idempotent, _metrics).ConfigureAwait(false);
        }
        finally
        {
            attempts.End();
            if (replay is not null)
            {
                StreamedBodyReplay.Return(replay);
            }
        }
    }

    /// <summary>
    /// Ends the attempt's upload if it still runs (response complete, timeout, reset, or a retry follows, which needs
    /// the client's body): the reset ends its sends, the cancelled read wakes one waiting for client bytes. A body
    /// that arrived whole is only read, never consumed, so it needs no cancel.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    internal static async ValueTask EndUploadAsync(Http2Stream stream, Http2Attempt attempt, bool streamed)
    {
        if (attempt.Upload is not { } upload)
        {
            return;
        }

        if (upload.IsCompleted || attempt.Upstream is not { } open)
        {
            await upload.ConfigureAwait(false);
            return;
        }

        await open.Connection.ResetAsync(open, Http2ErrorCode.Cancel).ConfigureAwait(false);
        if (!streamed)
        {
            await upload.ConfigureAwait(false);
            return;
        }

        stream.Input.CancelPendingRead();
        await upload.ConfigureAwait(false);
        StreamedBodyReplay.ClearPendingCancel(stream.Input);
    }

    /// <summary>One try: an upstream stream, the request on it, and the response headers (or why there are none).</summary>
    internal struct Http2Attempt
    {
        public Http2Stream? Upstream;
        public Task<bool>? Upload;
        public AttemptOutcome Outcome;
        public bool TimedOut;
    }

    /// <summary>
    /// Starts one try: the request on a new upstream stream, and its body (in hand, or streamed from the client with
    /// <paramref name="replay"/> keeping it). No upstream stream in the result: the endpoint could not be reached.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    internal async ValueTask<Http2Attempt> StartAttemptAsync(Http2Stream stream, Endpoint endpoint, Cluster cluster, bool bodiless, StreamedBodyReplay? replay, RequestDeadline deadline)
    {
        var attempt = default(Http2Attempt);
        Http2HeaderList request = stream.ReceivedHeaders;
        Http2HeaderList outgoing;
        Http2HeaderList.Mark? received = null;
        Http2StreamExchange exchange = Http2StreamExchange.Of(stream);
        if (SendsAsReceived(request, ForwardedScheme.OfUpstream(cluster, endpoint), ReplacesTraceContext) && !exchange.UpstreamTarget.IsRewritten && exchange.RequestFieldsRemoved is null)
        {
            // Nothing to drop or replace: the proxy's fields go on the end of the received list, which is sent as it
            // is and then cut back, rather than copied field by field into another list first.
            received = request.GetMark();
            outgoing = request;
            AddProxyFields(outgoing, request, request.Authority);
        }
        else
        {
            outgoing = stream.Outgoing;
            BuildUpstreamRequest(outgoing, request, ForwardedScheme.OfUpstream(cluster, endpoint), exchange, endpoint);
        }

        AddTraceFields(outgoing, stream);
        exchange.RequestHeadersToAdd.AddTo(outgoing);
        Http2Stream? upstream;
        try
        {
            // The downstream stream is the sink of the upstream one's 1xx responses (RFC 9113 8.1).
            upstream = endpoint.Http2Pool is { } pool
                ? await pool.OpenStreamAsync(endpoint, outgoing, bodiless, cluster.ConnectTimeout, cluster.Metrics, cluster.Settings.TlsFor(endpoint), interimSink: stream,
                    waitLimit: deadline.ConnectTimeout(cluster.ConnectTimeout)).ConfigureAwait(false)
                : null; // a reload made the cluster HTTP/1.1 meanwhile: nothing was sent
        }
        finally
        {
            if (received is { } mark)
            {
                request.TruncateTo(mark);
            }
        }

        if (upstream is null)
        {
            attempt.Outcome = AttemptOutcome.ConnectFailure;
            return attempt;
        }

        attempt.Upstream = upstream;
        attempt.Upload = bodiless ? null : replay is null ? SendBodyInHandAsync(stream, upstream) : UploadToHttp2Async(stream, upstream, replay);
        return attempt;
    }

    /// <summary>Relays the last attempt's response downstream, or answers the error it ended with.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    internal async ValueTask FinishHttp2Async(Http2Stream stream, Http2Attempt attempt, RouteMetrics metrics, bool grpc, long started)
    {
        if (attempt.Upstream is not { } upstream)
        {
            await AnswerAsync(stream, metrics, 502, ResponseFlag.UpstreamConnectFailure, grpc, started).ConfigureAwait(false);
            return;
        }

        if (attempt.TimedOut)
        {
            await AnswerAsync(stream, metrics, 504, ResponseFlag.UpstreamTimeout, grpc, started).ConfigureAwait(false);
            return;
        }

        if (attempt.Outcome.Failure != AttemptFailure.None)
        {
            await AnswerAsync(stream, metrics, 502, ResponseFlag.UpstreamReset, grpc, started).ConfigureAwait(false);
            return;
        }

        Http2HeaderList request = stream.ReceivedHeaders;
        Http2HeaderList upstreamHeaders = upstream.ReceivedHeaders;
        int status = upstreamHeaders.Status;
        bool noBody = upstream.EndStreamReceived && upstream.ReceivedBodyBytes == 0 && !upstream.HasTrailers;

        // The upstream's block is sent as it was decoded: validated (8.2, 8.3), it holds :status and the fields to
        // relay and nothing else, so it is encoded straight from the upstream stream's list, without a copy; unless the
        // route changes response fields, when it is copied less those it removes, with its additions.
        Http2HeaderList relayed = upstreamHeaders;
        Http2StreamExchange exchange = Http2StreamExchange.Of(stream);
        if (exchange.PrepareResponse(ref upstreamHeaders, exchange.Endpoint))
        {
            relayed = StageChangedResponse(stream.Outgoing, upstreamHeaders, exchange);
        }

        if (!await SendHeadersAsync(stream, relayed, noBody).ConfigureAwait(false))
        {
            RecordDownstreamDisconnect(stream, metrics, grpc, started); // the client reset the stream meanwhile
            return;
        }

        bool complete = noBody || await RelayBodyAsync(upstream, stream).ConfigureAwait(false);
        ResponseFlag flag = ResponseFlag.None;
        if (!complete && ClientGone(stream))
        {
            // The client reset the stream (or left) during the body: nobody is left to take the rest, so the upstream
            // stream is cancelled rather than left to finish, and the fault is the client's (DC), not the upstream's.
            flag = ResponseFlag.DownstreamDisconnect;
            await upstream.Connection.ResetAsync(upstream, Http2ErrorCode.Cancel).ConfigureAwait(false);
        }
        else if (!complete)
        {
            // The upstream's own reset code is passed on; one this side sent (a malformed response, 8.1.1) is not
            // the client's fault, so the client sees INTERNAL_ERROR.
            flag = ResponseFlag.UpstreamReset;
            await ResetAsync(stream, upstream.ResetByPeer && upstream.ResetCode is { } code && code != Http2ErrorCode.NoError ? code : Http2ErrorCode.InternalError).ConfigureAwait(false);
        }

        // A request body still flowing once the response is complete is cut by the caller (RST_STREAM upstream,
        // and NO_ERROR downstream at release, 8.1).
        Record(stream, metrics, status, flag, grpc, started,
            request.Size + stream.ReceivedBodyBytes, upstreamHeaders.Size + upstream.ReceivedBodyBytes, Http2StreamExchange.Of(stream).Endpoint,
            grpc && complete ? Http2Grpc.StatusOf(upstream.HasTrailers ? upstream.ReceivedTrailers : upstream.ReceivedHeaders) : AttemptOutcome.NoGrpcStatus);
    }

    /// <summary>
    /// True when the upstream request is the received one plus the proxy's fields: it has an :authority, the
    /// <paramref name="scheme"/> of the upstream connection, and no field that is dropped (host) or that the proxy
    /// replaces (<see cref="IsReplacedRequestField"/>).
    /// </summary>
    private static bool SendsAsReceived(Http2HeaderList request, ReadOnlySpan<byte> scheme, bool replaceTrace)
    {
        if (request.Authority.IsEmpty || !request.Scheme.SequenceEqual(scheme))
        {
            return false;
        }

        for (int i = 0; i < request.Count; i++)
        {
            ReadOnlySpan<byte> name = request.GetName(i);
            if (name.SequenceEqual("host"u8) || IsReplacedRequestField(name, hasHost: true, replaceTrace))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The upstream request: pseudo-headers (<paramref name="scheme"/>, the upstream connection's, in place of the
    /// client's; authority from :authority or host), the fields, the proxy's fields.
    /// </summary>
    /// <param name="endpoint">The endpoint of this try (auto_host_rewrite); null for a mirrored copy.</param>
    private void BuildUpstreamRequest(Http2HeaderList target, Http2HeaderList request, ReadOnlySpan<byte> scheme, Http2StreamExchange exchange, Endpoint? endpoint)
    {
        target.Reset();
        target.Add(":method"u8, request.Method);
        ReadOnlySpan<byte> authority = request.Authority;
        if (authority.IsEmpty)
        {
            request.TryGetValue("host"u8, out authority);
        }

        if (!request.Scheme.IsEmpty)
        {
            target.Add(":scheme"u8, scheme); // none for CONNECT (RFC 9113 8.5)
        }

        if (!authority.IsEmpty)
        {
            target.Add(":authority"u8, exchange.UpstreamTarget.HostOr(authority, endpoint));
        }

        if (!request.Path.IsEmpty)
        {
            target.Add(":path"u8, exchange.UpstreamTarget.TargetOr(request.Path));
        }

        bool replaceTrace = ReplacesTraceContext;
        FieldNameSet? removed = exchange.RequestFieldsRemoved;
        for (int i = 0; i < request.Count; i++)
        {
            ReadOnlySpan<byte> name = request.GetName(i);
            if (name.SequenceEqual("host"u8) || IsReplacedRequestField(name, hasHost: !authority.IsEmpty, replaceTrace) || (removed is not null && removed.Contains(name)))
            {
                continue;
            }

            target.CopyField(request, i);
        }

        AddProxyFields(target, request, authority);
    }

    /// <summary>The upstream's response copied into <paramref name="target"/> with the route's changes to its fields.</summary>
    private static Http2HeaderList StageChangedResponse(Http2HeaderList target, Http2HeaderList response, Http2StreamExchange exchange)
    {
        FieldNameSet removed = exchange.ResponseChanges!.Removed;
        target.Reset();
        target.AddStatus(response.Status);
        for (int i = 0; i < response.Count; i++)
        {
            if (!removed.Contains(response.GetName(i)))
            {
                target.CopyField(response, i);
            }
        }

        exchange.ResponseHeadersToAdd.AddTo(target);
        return target;
    }
}
