using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// h2 -> h2, the tries as the router drives them (<see cref="AttemptDriver"/>): each try is a stream on a
    /// multiplexed connection of the endpoint's pool, its body in hand or streamed from the client with
    /// <see cref="StreamedBodyReplay"/> keeping it. One object per pooled downstream stream, reused by its requests.
    /// </summary>
    internal sealed class Http2UpstreamAttempts : IUpstreamAttempts
    {
        private Http2ServerConnection _connection = null!;
        private Http2Stream _stream = null!;
        private Http2StreamExchange _exchange = null!;
        private Cluster _cluster = null!;
        private RouteMetrics _metrics = null!;
        private StreamedBodyReplay? _replay;
        private bool _grpc;
        private bool _bodiless;
        private bool _inHand;
        private long _started;
        private Http2Attempt _attempt;

        /// <summary>Starts a request's tries: <paramref name="replay"/> keeps a streamed body (null when it is in hand).</summary>
        public void Begin(Http2ServerConnection connection, Http2Stream stream, Http2StreamExchange exchange, Cluster cluster, RouteMetrics metrics, StreamedBodyReplay? replay, bool bodiless, bool inHand, bool grpc, long started)
        {
            (_connection, _stream, _exchange, _cluster, _metrics, _replay) = (connection, stream, exchange, cluster, metrics, replay);
            (_bodiless, _inHand, _grpc, _started) = (bodiless, inHand, grpc, started);
            _attempt = default;
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
            _attempt = await _connection.StartAttemptAsync(_stream, endpoint, _cluster, _bodiless, _replay, deadline).ConfigureAwait(false);
            if (_attempt.Upstream is not { } sent)
            {
                return _attempt.Outcome;
            }

            // A timeout is the exchange's reused timer, which resets the upstream stream with CANCEL, so the wait ends
            // with false: no task or timer per request, and the stream's waiter always takes its result, so the stream
            // is recycled. The reset comes before the answer: no interim response can reach the downstream after it.
            _exchange.ResponseTimeout.Arm(sent, deadline.TryTimeout());
            bool received;
            try
            {
                received = await sent.HeadersReceived.ConfigureAwait(false);
            }
            finally
            {
                _attempt.TimedOut = _exchange.ResponseTimeout.Disarm();
            }

            if (_attempt.TimedOut)
            {
                _attempt.Outcome = AttemptOutcome.PerTryTimeout;
            }
            else
            {
                _attempt.Outcome = RetryGate.OutcomeOf(sent, received);
                if (received)
                {
                    // No retry replays the body after the response headers: the replay buffer's memory goes back now.
                    _replay?.Discard();
                }
            }

            return _attempt.Outcome;
        }

        public bool ClientGone => _connection.ClientGone(_stream);

        /// <summary>The client reset the stream (or left): the upstream one is cancelled, nobody is left to answer.</summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
        public async ValueTask OnClientGoneAsync(Endpoint endpoint)
        {
            if (_attempt.Upstream is { } cancelled)
            {
                await cancelled.Connection.ResetAsync(cancelled, Http2ErrorCode.Cancel).ConfigureAwait(false);
            }

            _connection.RecordDownstreamDisconnect(_stream, _metrics, _grpc, _started);
        }

        /// <summary>What a failed try's upload took from the client is known once the upload has stopped.</summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> ReplayableAsync(AttemptOutcome outcome)
        {
            if (_replay is not null && outcome.Failure != AttemptFailure.None)
            {
                await EndUploadAsync(_stream, _attempt, streamed: true).ConfigureAwait(false);
            }

            return _inHand || outcome.Failure == AttemptFailure.ConnectFailure || _replay?.CanReplay == true;
        }

        public bool ClientProblem => false;

        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> FinishAsync(Endpoint endpoint)
        {
            await _connection.FinishHttp2Async(_stream, _attempt, _metrics, _grpc, _started).ConfigureAwait(false);
            return false;
        }

        /// <summary>Streams go back to the pool once released, so the upload ends first.</summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
        public async ValueTask EndTryAsync()
        {
            Http2Attempt attempt = _attempt;
            _attempt = default;
            await EndUploadAsync(_stream, attempt, streamed: _replay is not null).ConfigureAwait(false);
            if (attempt.Upstream is { } upstream)
            {
                await upstream.Connection.ReleaseStreamAsync(upstream).ConfigureAwait(false);
            }
        }

        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> AnswerAsync(int status, ResponseFlag flag)
        {
            await _connection.AnswerAsync(_stream, _metrics, status, flag, _grpc, _started).ConfigureAwait(false);
            return false;
        }
    }
}
