namespace Proxy.Resilience;

/// <summary>The answer of <see cref="RetryPolicy.Decide"/>: retry, or why not (the reason is a metric label).</summary>
public enum RetryDecision : byte
{
    /// <summary>Retry after <see cref="RetryPolicy.Backoff"/>.</summary>
    Retry,

    /// <summary>The outcome is a success, or a failure the policy does not retry.</summary>
    NotRetriable,

    /// <summary>The configured number of retries has been made.</summary>
    AttemptsExhausted,

    /// <summary>The request is not idempotent and may have reached the upstream.</summary>
    NotIdempotent,

    /// <summary>The request body was larger than the replay buffer (<see cref="RetryBodyBuffer.Limit"/>).</summary>
    BodyNotReplayable,
}
