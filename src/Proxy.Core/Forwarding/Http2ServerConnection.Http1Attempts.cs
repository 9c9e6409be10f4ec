using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// h2 -> h1, the tries as the router drives them (<see cref="AttemptDriver"/>): each try is the request translated
    /// to HTTP/1.1 on a pooled or new connection of the endpoint, its body in hand or streamed from the client with
    /// <see cref="StreamedBodyReplay"/> keeping what each try took. One object per pooled downstream stream, reused by its
    /// requests.
    /// </summary>
    internal sealed class Http1UpstreamAttempts : IUpstreamAttempts
    {
        private Http2ServerConnection _connection = null!;
        private Http2Stream _stream = null!;
        private Http2StreamExchange _exchange = null!;
        private Cluster _cluster = null!;
        private RouteMetrics _metrics = null!;
        private StreamedBodyReplay? _replay;
        private RequestMethod _method;
        private bool _hasBody;
        private bool _inHand;
        private bool _chunked;
        private bool _idempotent;
        private bool _grpc;
        private long _contentLength;
        private long _started;
        private Http1Attempt _attempt;
        private bool _reusable;

        /// <summary>
        /// Starts a request's tries over HTTP/1.1: its body (in hand, or streamed with <paramref name="replay"/> keeping it
        /// when the route retries) and how it is framed.
        /// </summary>
        public void Begin(Http2ServerConnection connection, Http2Stream stream, Http2StreamExchange exchange, Cluster cluster, RouteMetrics metrics, StreamedBodyReplay? replay, RequestMethod method, bool hasBody, bool inHand, long contentLength, bool chunked, bool grpc, long started)
        {
            (_connection, _stream, _exchange, _cluster, _metrics, _replay) = (connection, stream, exchange, cluster, metrics, replay);
            (_method, _hasBody, _inHand, _contentLength, _chunked, _grpc, _started) = (method, hasBody, inHand, contentLength, chunked, grpc, started);
            _idempotent = method.IsIdempotent();
            _attempt = default;
            _reusable = false;
        }

        /// <summary>Forgets the request, so an idle pooled stream keeps nothing of it alive.</summary>
        public void End()
        {
            _connection = null!;
            _stream = null!;
            _exchange = null!;
            _cluster = null!;
            _metrics = null!;
            _replay = null;
            _attempt = default;
        }

        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<AttemptOutcome> TryAsync(Endpoint endpoint, RequestDeadline deadline)
        {
            _exchange.OnAttempt(endpoint);
            _reusable = false;
            _attempt = await _connection.AttemptHttp1Async(_stream, _exchange, endpoint, _cluster, _hasBody, _inHand, _contentLength, _chunked, _idempotent, _replay, deadline).ConfigureAwait(false);
            return _attempt.Outcome;
        }

        public bool ClientGone => _connection.ClientGone(_stream);

        /// <summary>
        /// The client reset the stream, which cancelled the wait: the connection is closed, not reused (a cancellation
        /// may still be pending on it), and nobody is left to answer.
        /// </summary>
        public ValueTask OnClientGoneAsync(Endpoint endpoint)
        {
            _connection.RecordDownstreamDisconnect(_stream, _metrics, _grpc, _started);
            return default;
        }

        /// <summary>
        /// A streamed body leaves the stream as it is sent: it is sent again while the replay buffer holds what the tries
        /// took, known once the failed try's upload has stopped.
        /// </summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> ReplayableAsync(AttemptOutcome outcome)
        {
            if (_replay is not null && outcome.Failure != AttemptFailure.None)
            {
                await StopUploadAsync(_stream, _attempt).ConfigureAwait(false);
            }

            return !_hasBody || _inHand || outcome.Failure == AttemptFailure.ConnectFailure || _replay?.CanReplay == true;
        }

        /// <summary>
        /// Ends a failed try's upload before a retry takes the client's body on, leaving the client's stream as it is:
        /// the cancelled flush wakes one waiting for the upstream, the cancelled read one waiting for the client (which
        /// then takes nothing, so those bytes stay for the retry). A cancellation the upload never saw is taken off.
        /// </summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
        private static async ValueTask StopUploadAsync(Http2Stream stream, Http1Attempt attempt)
        {
            if (attempt.Upload is not { IsCompleted: false } upload)
            {
                return;
            }

            attempt.Upstream?.Output.CancelPendingFlush();
            stream.Input.CancelPendingRead();
            await upload.ConfigureAwait(false);
            StreamedBodyReplay.ClearPendingCancel(stream.Input);
        }

        public bool ClientProblem => false;

        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> FinishAsync(Endpoint endpoint)
        {
            _reusable = await _connection.FinishHttp1Async(_stream, _exchange, _attempt, _method, _metrics, _grpc, _started).ConfigureAwait(false);
            return false;
        }

        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
        public async ValueTask EndTryAsync()
        {
            Http1Attempt attempt = _attempt;
            bool reusable = _reusable;
            _attempt = default;
            _reusable = false;
            await _connection.EndHttp1AttemptAsync(_stream, attempt, reusable).ConfigureAwait(false);
        }

        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> AnswerAsync(int status, ResponseFlag flag)
        {
            await _connection.AnswerAsync(_stream, _metrics, status, flag, _grpc, _started).ConfigureAwait(false);
            return false;
        }
    }
}
