using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// h1 -> h1, the tries as the router drives them (<see cref="AttemptDriver"/>): each try is the request on a
    /// pooled or new connection of the endpoint, its body buffered (sent again on a retry) or streamed with
    /// <see cref="StreamedBodyReplay"/> keeping what each try took. One object per client connection, reused by its requests.
    /// </summary>
    private sealed class Http1UpstreamAttempts(Http1ServerConnection connection) : IUpstreamAttempts
    {
        private Cluster _cluster = null!;
        private RouteRuntime _action = null!;
        private RouteMetrics _metrics = null!;
        private StreamedBodyReplay? _replay;
        private bool _hasBody;
        private bool _buffered;
        private bool _keepAlive;
        private long _started;
        private Attempt _attempt;

        /// <summary>
        /// Starts a request's tries: its body is <paramref name="buffered"/> (sent again on a retry), or streams with
        /// <paramref name="replay"/> keeping it (null: the route does not retry, so it streams once).
        /// </summary>
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
            _attempt = await connection.AttemptAsync(endpoint, _cluster, _hasBody, _buffered, _replay, _keepAlive, deadline).ConfigureAwait(false);
            return _attempt.Outcome;
        }

        public bool ClientGone => _attempt.ClientGone;

        public ValueTask OnClientGoneAsync(Endpoint endpoint)
        {
            Attempt attempt = _attempt;
            _attempt = default;
            connection.FinishClientGone(attempt, endpoint, _cluster, _metrics, _action.Route.Name, _started);
            return default;
        }

        /// <summary>What a failed try's upload took from the client is known once the upload has stopped.</summary>
        [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
        public async ValueTask<bool> ReplayableAsync(AttemptOutcome outcome)
        {
            if (_replay is not null && outcome.Failure != AttemptFailure.None)
            {
                await connection.EndUploadAsync(_attempt).ConfigureAwait(false);
            }

            return !_hasBody || _buffered || outcome.Failure == AttemptFailure.ConnectFailure || _replay?.CanReplay == true;
        }

        public bool ClientProblem => _attempt.ClientProblem;

        /// <summary>The relay owns the try's connection from here: it returns it to the pool or closes it.</summary>
        public ValueTask<bool> FinishAsync(Endpoint endpoint)
        {
            Attempt attempt = _attempt;
            _attempt = default;
            return connection.FinishAsync(attempt, endpoint, _cluster, _action, _metrics, _keepAlive, _started);
        }

        /// <summary>A try that is retried leaves its connection: it is closed (a retry means it failed, or its answer was not taken).</summary>
        public ValueTask EndTryAsync()
        {
            _attempt.Upstream?.Dispose();
            _attempt = default;
            return default;
        }

        /// <summary>The proxy's answer; a deadline that passed closes the connection, as a body may be left unread.</summary>
        public ValueTask<bool> AnswerAsync(int status, ResponseFlag flag) =>
            connection.AnswerAsync(_metrics, status, flag, _started, close: flag == ResponseFlag.UpstreamTimeout || _hasBody || !_keepAlive, _action.Route.Name, _cluster.Name);
    }
}
