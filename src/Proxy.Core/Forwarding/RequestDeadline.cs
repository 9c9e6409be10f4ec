using System.Diagnostics;

namespace Proxy.Forwarding;

/// <summary>
/// The route timeout (or an HTTP/2 client's tighter grpc-timeout) as a deadline for the whole request, its tries and
/// the backoff between them included, with the retry policy's per-try timeout bounding each try within it: Envoy's
/// route <c>timeout</c> and <c>retry_policy.per_try_timeout</c>. The four forwarding pairings share it.
/// </summary>
/// <remarks>
/// The deadline starts when the first try is about to start: after admission (rate limits, an injected delay) and
/// after a body the retries need has been read whole, as Envoy starts its route timeout once the downstream request is
/// complete. A value type kept in the forwarder's state machine: nothing is allocated per request.
/// </remarks>
internal readonly struct RequestDeadline
{
    private readonly long _start;        // Stopwatch timestamp the deadline counts from
    private readonly TimeSpan? _timeout; // the whole request's time; null: no deadline
    private readonly TimeSpan? _perTry;  // each try's bound; null: only the deadline bounds a try

    private RequestDeadline(long start, TimeSpan? timeout, TimeSpan? perTry) => (_start, _timeout, _perTry) = (start, timeout, perTry);

    /// <summary>A deadline of <paramref name="timeout"/> from now (none when null), tries bounded by <paramref name="perTry"/> too.</summary>
    public static RequestDeadline StartNow(TimeSpan? timeout, TimeSpan? perTry) => new(Stopwatch.GetTimestamp(), timeout, perTry);

    /// <summary>The time left before the deadline at <paramref name="now"/> (Stopwatch ticks), never negative; null without a deadline.</summary>
    private TimeSpan? Remaining(long now)
    {
        if (_timeout is not { } timeout)
        {
            return null;
        }

        TimeSpan left = timeout - Stopwatch.GetElapsedTime(_start, now);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// True while the deadline has not passed (always without one): a retry, or another try, may start. After a try
    /// that timed out, it tells whether that was the per-try timeout (time is left: the try may be retried) or the
    /// deadline (504, no further try).
    /// </summary>
    public bool HasTimeLeft() => Remaining(Stopwatch.GetTimestamp()) is not { } left || left > TimeSpan.Zero;

    /// <summary>
    /// True once the deadline has passed (never without one): a response head that arrives now came too late to be
    /// relayed, and a connect that failed now used up the time left; both are answered 504.
    /// </summary>
    public bool HasPassed() => !HasTimeLeft();

    /// <summary>
    /// True when the deadline has passed or is within a few milliseconds (never without one): a connect cut to the time
    /// left ends on a timer that may fire a hair before the deadline by this clock, and a failure then is the deadline's.
    /// </summary>
    public bool IsAtHand() => Remaining(Stopwatch.GetTimestamp()) is { } left && left < AtHand;

    private static readonly TimeSpan AtHand = TimeSpan.FromMilliseconds(15);

    /// <summary>
    /// How long a try's connect may take: the cluster's <paramref name="connectTimeout"/>, or the time left before the
    /// deadline when that is shorter (at least a millisecond, so a connect is never given no time at all).
    /// </summary>
    public TimeSpan ConnectTimeout(TimeSpan connectTimeout)
    {
        if (Remaining(Stopwatch.GetTimestamp()) is not { } left || left >= connectTimeout)
        {
            return connectTimeout;
        }

        return left > MinimumConnect ? left : MinimumConnect;
    }

    private static readonly TimeSpan MinimumConnect = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// How long a try starting its wait for the response head now may wait: the per-try timeout or the time left,
    /// whichever is shorter; null when neither applies. A try that runs into this bound while time is left (see
    /// <see cref="HasTimeLeft"/> after it) ran into the per-try timeout and may be retried; one that used up
    /// the time left may not.
    /// </summary>
    public TimeSpan? TryTimeout()
    {
        TimeSpan? left = Remaining(Stopwatch.GetTimestamp());
        if (left is null)
        {
            return _perTry;
        }

        return _perTry is { } perTry && perTry < left.Value ? perTry : left;
    }

    /// <summary>
    /// The backoff before the next try, cut to the time left: a backoff that reaches the deadline ends at it, and
    /// <paramref name="reachesDeadline"/> tells the caller to answer then rather than try again (a timer may wake a
    /// little before the deadline by the clock, which must not start a try with next to no time).
    /// </summary>
    public TimeSpan CapBackoff(TimeSpan backoff, out bool reachesDeadline)
    {
        TimeSpan? left = Remaining(Stopwatch.GetTimestamp());
        reachesDeadline = left is { } l && l <= backoff;
        return reachesDeadline ? left!.Value : backoff;
    }
}
