using Proxy.Observability.Metrics;

namespace Proxy.Resilience;

/// <summary>
/// The labelled resilience metric children of one cluster, resolved once when the cluster is built so the
/// hot path only increments. <see cref="Detached"/> gives unregistered counters (tests, or no metrics).
/// </summary>
public sealed class ClusterResilienceMetrics
{
    public ClusterResilienceMetrics(ResilienceMetrics metrics, string cluster)
    {
        RetryConnectFailure = metrics.Retries.WithLabels(cluster, "connect-failure");
        RetryReset = metrics.Retries.WithLabels(cluster, "reset");
        Retry5xx = metrics.Retries.WithLabels(cluster, "5xx");
        RetryGatewayError = metrics.Retries.WithLabels(cluster, "gateway-error");
        RetryStatusCode = metrics.Retries.WithLabels(cluster, "retriable-status-codes");
        RetryGrpc = metrics.Retries.WithLabels(cluster, "grpc");
        RetryRefusedStream = metrics.Retries.WithLabels(cluster, "refused-stream");
        RefusedAttempts = metrics.RetriesRefused.WithLabels(cluster, "attempts");
        RefusedBudget = metrics.RetriesRefused.WithLabels(cluster, "budget");
        RefusedOverflow = metrics.RetriesRefused.WithLabels(cluster, "overflow");
        RefusedNotIdempotent = metrics.RetriesRefused.WithLabels(cluster, "not_idempotent");
        RefusedBodyTooLarge = metrics.RetriesRefused.WithLabels(cluster, "body_too_large");
        BreakerOverflowConnections = metrics.CircuitBreakerOverflows.WithLabels(cluster, "connections");
        BreakerOverflowPending = metrics.CircuitBreakerOverflows.WithLabels(cluster, "pending_requests");
        BreakerOverflowRequests = metrics.CircuitBreakerOverflows.WithLabels(cluster, "requests");
        BreakerOverflowRetries = metrics.CircuitBreakerOverflows.WithLabels(cluster, "retries");
        Ejections5xx = metrics.OutlierEjections.WithLabels(cluster, "consecutive_5xx");
        EjectionsGatewayErrors = metrics.OutlierEjections.WithLabels(cluster, "consecutive_gateway_errors");
        EjectionsSkipped = metrics.OutlierEjectionsSkipped.WithLabels(cluster);
        Ejected = metrics.OutlierEjected.WithLabels(cluster);
        HealthCheckSuccess = metrics.HealthChecks.WithLabels(cluster, "success");
        HealthCheckFailure = metrics.HealthChecks.WithLabels(cluster, "failure");
        HealthCheckTimeout = metrics.HealthChecks.WithLabels(cluster, "timeout");
        BecameHealthy = metrics.HealthCheckTransitions.WithLabels(cluster, "healthy");
        BecameUnhealthy = metrics.HealthCheckTransitions.WithLabels(cluster, "unhealthy");
    }

    private ClusterResilienceMetrics()
    {
        RetryConnectFailure = new();
        RetryReset = new();
        Retry5xx = new();
        RetryGatewayError = new();
        RetryStatusCode = new();
        RetryGrpc = new();
        RetryRefusedStream = new();
        RefusedAttempts = new();
        RefusedBudget = new();
        RefusedOverflow = new();
        RefusedNotIdempotent = new();
        RefusedBodyTooLarge = new();
        BreakerOverflowConnections = new();
        BreakerOverflowPending = new();
        BreakerOverflowRequests = new();
        BreakerOverflowRetries = new();
        Ejections5xx = new();
        EjectionsGatewayErrors = new();
        EjectionsSkipped = new();
        Ejected = new();
        HealthCheckSuccess = new();
        HealthCheckFailure = new();
        HealthCheckTimeout = new();
        BecameHealthy = new();
        BecameUnhealthy = new();
    }

    /// <summary>Counters that belong to no registry.</summary>
    public static ClusterResilienceMetrics Detached() => new();

    public Counter RetryConnectFailure { get; }

    public Counter RetryReset { get; }

    public Counter Retry5xx { get; }

    public Counter RetryGatewayError { get; }

    public Counter RetryStatusCode { get; }

    public Counter RetryGrpc { get; }

    public Counter RetryRefusedStream { get; }

    public Counter RefusedAttempts { get; }

    public Counter RefusedBudget { get; }

    public Counter RefusedOverflow { get; }

    public Counter RefusedNotIdempotent { get; }

    public Counter RefusedBodyTooLarge { get; }

    public Counter BreakerOverflowConnections { get; }

    public Counter BreakerOverflowPending { get; }

    public Counter BreakerOverflowRequests { get; }

    public Counter BreakerOverflowRetries { get; }

    public Counter Ejections5xx { get; }

    public Counter EjectionsGatewayErrors { get; }

    public Counter EjectionsSkipped { get; }

    public Gauge Ejected { get; }

    public Counter HealthCheckSuccess { get; }

    public Counter HealthCheckFailure { get; }

    public Counter HealthCheckTimeout { get; }

    public Counter BecameHealthy { get; }

    public Counter BecameUnhealthy { get; }

    /// <summary>Counts a retry under the condition that caused it (the lowest flag of <c>Classify(outcome) &amp; RetryOn</c>).</summary>
    public void CountRetry(RetryOn matched)
    {
        if ((matched & RetryOn.ConnectFailure) != 0)
        {
            RetryConnectFailure.Increment();
        }
        else if ((matched & RetryOn.RefusedStream) != 0)
        {
            RetryRefusedStream.Increment();
        }
        else if ((matched & RetryOn.Reset) != 0)
        {
            RetryReset.Increment();
        }
        else if ((matched & RetryOn.Status5xx) != 0)
        {
            Retry5xx.Increment();
        }
        else if ((matched & RetryOn.GatewayError) != 0)
        {
            RetryGatewayError.Increment();
        }
        else if ((matched & RetryOn.RetriableStatusCodes) != 0)
        {
            RetryStatusCode.Increment();
        }
        else
        {
            RetryGrpc.Increment();
        }
    }

    /// <summary>Counts a retriable failure that was not retried.</summary>
    public void CountRefused(RetryDecision decision)
    {
        switch (decision)
        {
            case RetryDecision.AttemptsExhausted:
                RefusedAttempts.Increment();
                break;
            case RetryDecision.NotIdempotent:
                RefusedNotIdempotent.Increment();
                break;
            case RetryDecision.BodyNotReplayable:
                RefusedBodyTooLarge.Increment();
                break;
        }
    }
}
