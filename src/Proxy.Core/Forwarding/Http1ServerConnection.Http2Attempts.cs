using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// h1 -> h2, the tries as the router drives them (<see cref="AttemptDriver"/>): each try is the request as a stream
    /// on a multiplexed connection of the endpoint's pool, its body buffered (sent again on a retry) or streamed with
    /// <see cref="StreamedBodyReplay"/> keeping what each try took. One object per client connection, reused.
    /// </summary>
    private sealed class Http2UpstreamAttempts(Http1ServerConnection connection) : IUpstreamAttempts
    {
        private Cluster _cluster = null!;
        private RouteRuntime _action = null!;
        private RouteMetrics _metrics = null!;
        private StreamedBodyReplay? _replay;
        private bool _hasBody;
        private bool _buffered;
        private bool _keepAlive;
        private long _started;
        private Http2Exchange _attempt;

        /// <summary>Starts a request's tries: its body is <paramref name="buffered"/>, or streams with <paramref name="replay"/> keeping it.</summary>
        public void Begin(Cluster cluster, RouteRuntime action, RouteMetrics metrics, StreamedBodyReplay? replay, bool hasBody, bool buffered, bool keepAlive, long started)
        {
            (_cluster, _action, _metrics, _replay) = (cluster, action, metrics, replay);
            (_hasBody, _buffered, _keepAlive, _started) = (hasBody, buffered, keepAlive, started);
            _attempt = default;
        }

        /// <summary>Forgets the request, so an idle connection keeps no cluster or route of an old snapshot alive.</summary>
        public void End()
        {
            _cluster = null!;
            _action = null!;
            _metrics = null!;
            _replay = null;
            _attempt = default;
        }

        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<AttemptOutcome> TryAsync(Endpoint endpoint, RequestDeadline deadline)
        {
            connection.CountAttempt(endpoint);
            if (endpoint.Http2Pool is not { } pool)
            {
                // A reload made the cluster HTTP/1.1 meanwhile: nothing was sent.
                _attempt = new Http2Exchange { Outcome = AttemptOutcome.ConnectFailure };
                return _attempt.Outcome;
            }

            _attempt = await connection.AttemptHttp2Async(endpoint, pool, _cluster, _hasBody, _buffered, _replay, deadline).ConfigureAwait(false);
            return _attempt.Outcome;
        }

        public bool ClientGone => _attempt.ClientGone;

        /// <summary>
        /// The client closed its connection: the upstream stream is cancelled (if its response headers came first, the
        /// timeout's object left it open), nobody is left to answer.
        /// </summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
        public async ValueTask OnClientGoneAsync(Endpoint endpoint)
        {
            if (_attempt.Stream is { } cancelled)
            {
                await cancelled.Connection.ResetAsync(cancelled, Http2ErrorCode.Cancel).ConfigureAwait(false);
            }

            connection.Record(_metrics, 0, ResponseFlag.DownstreamDisconnect, _started, connection._request.HeadLength + (_attempt.Stream?.SentBodyBytes ?? 0), 0,
                _action.Route.Name, _cluster.Name, endpoint);
        }

        /// <summary>What a failed try's upload took from the client is known once the upload has stopped.</summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> ReplayableAsync(AttemptOutcome outcome)
        {
            if (_replay is not null && outcome.Failure != AttemptFailure.None)
            {
                await connection.EndUploadAsync(_attempt, _buffered).ConfigureAwait(false);
            }

            return !_hasBody || _buffered || outcome.Failure == AttemptFailure.ConnectFailure || _replay?.CanReplay == true;
        }

        public bool ClientProblem => connection._uploadTooLarge || connection._uploadError != Http1ParseError.None;

        public ValueTask<bool> FinishAsync(Endpoint endpoint) =>
            connection.FinishHttp2Async(_attempt, endpoint, _cluster, _action, _metrics, _hasBody, _buffered, _keepAlive, _started);

        /// <summary>The stream goes back to the pool once released, so its upload ends first.</summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
        public async ValueTask EndTryAsync()
        {
            Http2Exchange attempt = _attempt;
            _attempt = default;
            await connection.EndUploadAsync(attempt, _buffered).ConfigureAwait(false);
            if (attempt.Stream is { } stream)
            {
                await stream.Connection.ReleaseStreamAsync(stream).ConfigureAwait(false);
            }
        }

        /// <summary>The proxy's answer; a deadline that passed, or a body left unread, closes the connection.</summary>
        public ValueTask<bool> AnswerAsync(int status, ResponseFlag flag) =>
            connection.AnswerAsync(_metrics, status, flag, _started, close: flag == ResponseFlag.UpstreamTimeout || (_hasBody && !_buffered) || !_keepAlive, _action.Route.Name, _cluster.Name);
    }
}
