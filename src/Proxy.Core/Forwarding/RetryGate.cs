using Proxy.Http.Http2;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// The retry decisions the forwarders share: whether a failed attempt is tried again (the route's policy, its
/// budget and the breaker's retry limit, or the refused-stream rule of HTTP/2), and on which endpoint.
/// </summary>
internal static class RetryGate
{
    /// <summary>
    /// Retries of streams an HTTP/2 upstream refused, when the route's policy does not retry them itself. A refused
    /// stream reached no application (RFC 9113 8.7), so it is retried whatever the method; the bound stops a loop
    /// against an upstream that refuses everything.
    /// </summary>
    public const int MaxRefusedStreamRetries = 2;

    /// <summary>The retry policy, then the budget, then the breaker's retry limit must all agree.</summary>
    /// <remarks>On true the caller holds the breaker's retry resource until the next attempt ends.</remarks>
    public static bool MayRetry(RetryPolicy policy, RouteRuntime action, Cluster cluster, in AttemptOutcome outcome, int retries, bool idempotent, bool replayable)
    {
        var decision = policy.Decide(outcome, retries, idempotent, replayable);
        var metrics = cluster.Resilience.Metrics;
        if (decision != RetryDecision.Retry)
        {
            if (decision != RetryDecision.NotRetriable)
            {
                metrics.CountRefused(decision);
            }

            return false;
        }

        if (action.Budget is { } budget && !budget.TryWithdraw())
        {
            metrics.RefusedBudget.Increment();
            return false;
        }

        if (cluster.Resilience.Breaker is { } breaker && breaker.TryAcquire(CircuitBreakerResource.Retries) != CircuitBreakerResource.None)
        {
            metrics.RefusedOverflow.Increment();
            return false;
        }

        metrics.CountRetry(policy.Classify(outcome) & policy.RetryOn);
        return true;
    }

    /// <summary>
    /// A refused stream the policy did not retry: tried again (up to <see cref="MaxRefusedStreamRetries"/> times),
    /// counted in <c>proxy_upstream_retries_total</c> like the other retries that are not the policy's.
    /// </summary>
    public static bool MayRetryRefused(in AttemptOutcome outcome, ref int refusedRetries, bool replayable, Cluster cluster, ProxyMetrics metrics)
    {
        if (outcome.Failure != AttemptFailure.RefusedStream || !replayable || refusedRetries >= MaxRefusedStreamRetries)
        {
            return false;
        }

        refusedRetries++;
        metrics.UpstreamRetries.WithLabels(cluster.Name).Increment();
        return true;
    }

    /// <summary>
    /// Picks the endpoint of an attempt. A retry avoids the endpoints that just failed when the
    /// cluster has others (Envoy's previous_hosts predicate, which Istio enables by default):
    /// without it, round robin hands a dead endpoint to a third of the retries as well.
    /// </summary>
    public static Endpoint? PickForAttempt(Cluster cluster, PickContext context, Endpoint? triedLast, Endpoint? triedBefore)
    {
        var endpoint = cluster.Pick(context);
        if (endpoint is null || (endpoint != triedLast && endpoint != triedBefore))
        {
            return endpoint;
        }

        // The picker chose an endpoint that just failed: take the first other healthy one, from a
        // random start so retries spread over the rest.
        var endpoints = cluster.Endpoints;
        var start = Random.Shared.Next(endpoints.Count);
        for (var i = 0; i < endpoints.Count; i++)
        {
            var candidate = endpoints[(start + i) % endpoints.Count];
            if (candidate.IsHealthy && candidate != triedLast && candidate != triedBefore)
            {
                return candidate;
            }
        }

        return endpoint; // nothing else to try: the same endpoint again
    }

    /// <summary>
    /// What an HTTP/2 upstream stream's wait for response headers came to: the response (with the grpc-status of a
    /// trailers-only gRPC response), a refused stream (RFC 9113 8.7: REFUSED_STREAM, or a GOAWAY below the stream's
    /// id, so nothing was processed), or a reset.
    /// </summary>
    public static AttemptOutcome OutcomeOf(Http2Stream upstream, bool headersReceived)
    {
        if (!headersReceived)
        {
            return upstream.ResetByPeer && upstream.ResetCode == Http2ErrorCode.RefusedStream
                ? AttemptOutcome.RefusedStream
                : AttemptOutcome.Reset;
        }

        Http2HeaderList headers = upstream.ReceivedHeaders;
        return AttemptOutcome.Response(headers.Status,
            headers.TryGetValue("grpc-status"u8, out ReadOnlySpan<byte> grpcStatus) ? RetryPolicy.ParseGrpcStatus(grpcStatus) : AttemptOutcome.NoGrpcStatus);
    }
}
