using System.Diagnostics;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// The router's attempt loop, written once for every pairing of client codec and upstream kind
/// (<see cref="IUpstreamAttempts"/>): tries on the cluster's endpoints until one gives a response to relay or the rules
/// say stop. The rules, in order: a client that left ends it (<c>DC</c>); every try is reported to outlier detection;
/// past the whole-request deadline, a late response head or a connect cut short is answered 504 <c>UT</c>; a retry needs time left before the whole-request deadline (<see cref="RequestDeadline"/>), a request that can be sent
/// again, and the route's policy, then its budget, then the breaker's retry limit to agree (<see cref="RetryGate"/>); a
/// stream an HTTP/2 upstream refused is retried whatever the policy, at most twice (RFC 9113 8.7); the backoff between
/// tries is cut to the deadline (504 <c>UT</c> when it passes); a retry avoids the endpoints that just failed.
/// </summary>
internal static class AttemptDriver
{
    /// <summary>
    /// Runs the tries of one request. <paramref name="first"/> is the endpoint of the first try (null: none is
    /// healthy, 503 <c>NH</c>). Returns what <see cref="IUpstreamAttempts.FinishAsync"/> or the proxy's answer returned:
    /// whether the client's connection can carry another request.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> RunAsync(IUpstreamAttempts attempts, RouteRuntime action, Cluster cluster, Endpoint? first, PickContext pick, RequestDeadline deadline, bool idempotent, ProxyMetrics metrics)
    {
        RetryPolicy? policy = action.Retry;
        Endpoint? endpoint = first;
        Endpoint? triedLast = null, triedBefore = null;
        int retries = 0, refusedRetries = 0;
        bool holdingRetry = false; // the breaker's retry resource, held from a retry's decision until that try ends
        try
        {
            while (true)
            {
                if (endpoint is null)
                {
                    return await attempts.AnswerAsync(503, ResponseFlag.NoHealthyEndpoint).ConfigureAwait(false);
                }

                endpoint.OnRequestStarted();
                long latencyStart = Stopwatch.GetTimestamp();
                try
                {
                    AttemptOutcome outcome = await attempts.TryAsync(endpoint, deadline).ConfigureAwait(false);
                    if (attempts.ClientGone)
                    {
                        await attempts.OnClientGoneAsync(endpoint).ConfigureAwait(false);
                        return false;
                    }

                    if (holdingRetry)
                    {
                        cluster.Resilience.Breaker?.Release(CircuitBreakerResource.Retries);
                        holdingRetry = false;
                    }

                    cluster.Resilience.Outliers?.Report(endpoint.Health, outcome);

                    // Past the deadline, as when its timer ends the wait: a response head that came after it is not
                    // relayed (the timer may fire a little late), and a connect that failed was cut to the time left.
                    if (!attempts.ClientProblem &&
                        ((outcome.Failure == AttemptFailure.None && deadline.HasPassed()) || (outcome.Failure == AttemptFailure.ConnectFailure && deadline.IsAtHand())))
                    {
                        return await attempts.AnswerAsync(504, ResponseFlag.UpstreamTimeout).ConfigureAwait(false);
                    }

                    // A retry needs time left before the deadline: a timeout with none left was the deadline's, not the
                    // per-try one. A body the client got wrong (too large, malformed) is answered, never retried.
                    bool retry = false;
                    if (!attempts.ClientProblem && deadline.HasTimeLeft())
                    {
                        bool replayable = await attempts.ReplayableAsync(outcome).ConfigureAwait(false);
                        if (policy is not null && RetryGate.MayRetry(policy, action, cluster, outcome, retries, idempotent, replayable))
                        {
                            holdingRetry = true;
                            retries++;
                            retry = true;
                        }
                        else
                        {
                            retry = RetryGate.MayRetryRefused(outcome, ref refusedRetries, replayable, cluster, metrics);
                        }
                    }

                    if (!retry)
                    {
                        return await attempts.FinishAsync(endpoint).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await attempts.EndTryAsync().ConfigureAwait(false);
                    endpoint.OnRequestCompletedSince(latencyStart);
                }

                bool reachesDeadline = false;
                if (policy is not null && retries > 0)
                {
                    await Task.Delay(deadline.CapBackoff(policy.Backoff(retries, SharedRandomSource.Instance), out reachesDeadline)).ConfigureAwait(false);
                }

                if (reachesDeadline || !deadline.HasTimeLeft())
                {
                    // The deadline passed in the backoff: no further try (gRPC: DEADLINE_EXCEEDED).
                    return await attempts.AnswerAsync(504, ResponseFlag.UpstreamTimeout).ConfigureAwait(false);
                }

                triedBefore = triedLast;
                triedLast = endpoint;
                endpoint = RetryGate.PickForAttempt(cluster, pick, triedLast, triedBefore);
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
}
