using System.Diagnostics;
using Proxy.Configuration;
using Proxy.LoadBalancing;

namespace Proxy.Resilience;

/// <summary>
/// The compiled retry rules of one route: which attempt outcomes are retried, how many times, the
/// per-try timeout and the back-off between tries. Immutable and shared by all requests of the route;
/// every member is allocation-free.
/// </summary>
/// <remarks>
/// Safety rules applied before the conditions: a request whose body did not fit the replay buffer is
/// never retried, and a non-idempotent request (RFC 9110 section 9.2.2) is retried only when nothing
/// reached the upstream (a connect failure).
/// </remarks>
public sealed class RetryPolicy
{
    // gRPC status codes (grpc/doc/statuscodes.md).
    private const int GrpcCancelled = 1;
    private const int GrpcDeadlineExceeded = 4;
    private const int GrpcResourceExhausted = 8;
    private const int GrpcUnavailable = 14;

    private readonly int[] _statusCodes;
    private readonly long _backoffBaseTicks;
    private readonly long _backoffMaxTicks;

    public RetryPolicy(RetryOn retryOn, int maxRetries, ReadOnlySpan<int> statusCodes, TimeSpan? perTryTimeout, TimeSpan backoffBase, TimeSpan backoffMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        RetryOn = retryOn;
        MaxRetries = maxRetries;
        _statusCodes = statusCodes.ToArray();
        PerTryTimeout = perTryTimeout;
        BackoffBase = backoffBase;
        BackoffMax = backoffMax < backoffBase ? backoffBase : backoffMax;
        _backoffBaseTicks = Math.Max(0, BackoffBase.Ticks);
        _backoffMaxTicks = Math.Max(0, BackoffMax.Ticks);
    }

    /// <summary>The conditions retried.</summary>
    public RetryOn RetryOn { get; }

    /// <summary>Retries after the first try.</summary>
    public int MaxRetries { get; }

    /// <summary>Timeout of each try, or null when only the route timeout applies.</summary>
    public TimeSpan? PerTryTimeout { get; }

    /// <summary>Upper bound of the first back-off.</summary>
    public TimeSpan BackoffBase { get; }

    /// <summary>Ceiling of every back-off.</summary>
    public TimeSpan BackoffMax { get; }

    /// <summary>The policy of a route's <c>retries</c> section.</summary>
    public static RetryPolicy FromConfig(RetryConfig config)
    {
        var codes = new int[config.StatusCodes.Count];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = config.StatusCodes[i];
        }

        return new RetryPolicy(RetryOnNames.Parse(config.RetryOn), config.Attempts, codes, config.PerTryTimeout, config.BackoffBase, config.BackoffMax);
    }

    /// <summary>
    /// Whether the attempt that produced <paramref name="outcome"/> is retried.
    /// </summary>
    /// <param name="outcome">How the attempt ended.</param>
    /// <param name="retriesDone">Retries already made (0 after the first try).</param>
    /// <param name="idempotent">Whether the request method is idempotent (<c>RequestMethods.IsIdempotent</c>).</param>
    /// <param name="bodyReplayable">False when the request body overflowed the <see cref="RetryBodyBuffer"/>.</param>
    /// <remarks>The budget and the circuit breaker's retry limit are checked by the caller afterwards, only on <see cref="RetryDecision.Retry"/>.</remarks>
    public RetryDecision Decide(in AttemptOutcome outcome, int retriesDone, bool idempotent, bool bodyReplayable)
    {
        var matched = Classify(outcome) & RetryOn;
        if (matched == RetryOn.None)
        {
            return RetryDecision.NotRetriable;
        }

        if (retriesDone >= MaxRetries)
        {
            return RetryDecision.AttemptsExhausted;
        }

        if (!bodyReplayable)
        {
            return RetryDecision.BodyNotReplayable;
        }

        // A non-idempotent request that may have reached the upstream may have taken effect there.
        if (!idempotent && outcome.MayHaveReachedUpstream)
        {
            return RetryDecision.NotIdempotent;
        }

        return RetryDecision.Retry;
    }

    /// <summary>
    /// The conditions an outcome satisfies, whatever the policy: <c>Classify(o) &amp; RetryOn</c> is
    /// non-empty when the policy retries it. The lowest set flag names the retry reason for metrics.
    /// </summary>
    public RetryOn Classify(in AttemptOutcome outcome)
    {
        switch (outcome.Failure)
        {
            case AttemptFailure.ConnectFailure:
                return RetryOn.ConnectFailure | RetryOn.Status5xx | RetryOn.GatewayError;
            case AttemptFailure.Reset:
                return RetryOn.Reset | RetryOn.Status5xx;
            case AttemptFailure.RefusedStream:
                // A refused stream is a reset that is known to be safe (Envoy counts it under 5xx and reset too).
                return RetryOn.RefusedStream | RetryOn.Reset | RetryOn.Status5xx;
            case AttemptFailure.PerTryTimeout:
                // Envoy counts a per-try timeout as a 504 for 5xx and gateway-error.
                return RetryOn.Status5xx | RetryOn.GatewayError;
        }

        var result = RetryOn.None;
        int status = outcome.Status;
        if (status is >= 500 and <= 599)
        {
            result |= RetryOn.Status5xx;
            if (status is 502 or 503 or 504)
            {
                result |= RetryOn.GatewayError;
            }
        }

        if (Array.IndexOf(_statusCodes, status) >= 0)
        {
            result |= RetryOn.RetriableStatusCodes;
        }

        result |= outcome.GrpcStatus switch
        {
            GrpcCancelled => RetryOn.GrpcCancelled,
            GrpcDeadlineExceeded => RetryOn.GrpcDeadlineExceeded,
            GrpcResourceExhausted => RetryOn.GrpcResourceExhausted,
            GrpcUnavailable => RetryOn.GrpcUnavailable,
            _ => RetryOn.None,
        };
        return result;
    }

    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (1 for the first retry): "full jitter"
    /// (AWS architecture blog, "Exponential Backoff And Jitter"), uniform in [0, min(max, base * 2^(retry-1))].
    /// </summary>
    public TimeSpan Backoff(int retry, IRandomSource random)
    {
        int shift = Math.Clamp(retry - 1, 0, 30);
        long ceiling = _backoffBaseTicks > (_backoffMaxTicks >> shift) ? _backoffMaxTicks : _backoffBaseTicks << shift;
        return ceiling <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks(random.Next(ceiling + 1));
    }

    /// <summary>The deadline of a try started at <paramref name="nowTicks"/> (Stopwatch ticks), or long.MaxValue without a per-try timeout.</summary>
    public long PerTryDeadline(long nowTicks) =>
        PerTryTimeout is { } timeout ? nowTicks + (long)(timeout.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

    /// <summary>
    /// Parses a <c>grpc-status</c> header value (1-3 ASCII digits); <see cref="AttemptOutcome.NoGrpcStatus"/>
    /// when absent or malformed.
    /// </summary>
    public static int ParseGrpcStatus(ReadOnlySpan<byte> value)
    {
        value = value.Trim(" \t"u8);
        if (value.Length is 0 or > 3)
        {
            return AttemptOutcome.NoGrpcStatus;
        }

        int status = 0;
        foreach (byte b in value)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return AttemptOutcome.NoGrpcStatus;
            }

            status = (status * 10) + (b - '0');
        }

        return status;
    }
}
