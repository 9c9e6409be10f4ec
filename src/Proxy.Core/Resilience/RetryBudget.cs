using System.Diagnostics;
using Proxy.Configuration;
using Proxy.Observability.Metrics;

namespace Proxy.Resilience;

/// <summary>
/// Caps retries to a share of recent requests, so that retries cannot multiply an overload (linkerd2-proxy's
/// and Finagle's retry budget). Every original request deposits; every retry withdraws; over a sliding window
/// (10 s in one-second buckets) a retry is allowed while <c>retries &lt; ratio * requests + minPerSecond * window</c>.
/// Lock-free and allocation-free; one per route (or per cluster), shared by all its requests.
/// </summary>
/// <remarks>
/// Two concurrent withdrawals may both see the last unit of budget and both retry: the cap is approximate by
/// the number of threads, never unbounded.
/// </remarks>
public sealed class RetryBudget
{
    /// <summary>The window length (linkerd2-proxy's default ttl).</summary>
    public const int DefaultWindowSeconds = 10;

    private readonly SlidingWindowCounter _requests;
    private readonly SlidingWindowCounter _retries;
    private readonly Func<long> _clock;
    private readonly long _ticksPerSecond;
    private readonly double _reserve;

    /// <param name="ratio">Retries allowed per request (0-1).</param>
    /// <param name="minPerSecond">Retries per second always allowed.</param>
    /// <param name="clock">Now, in ticks of <paramref name="ticksPerSecond"/> (default Stopwatch.GetTimestamp).</param>
    /// <param name="exhausted">Counts refused withdrawals (a metric child; a detached counter when null).</param>
    public RetryBudget(double ratio, int minPerSecond, Func<long>? clock = null, long ticksPerSecond = 0, int windowSeconds = DefaultWindowSeconds, Counter? exhausted = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ratio);
        ArgumentOutOfRangeException.ThrowIfNegative(minPerSecond);
        Ratio = ratio;
        MinPerSecond = minPerSecond;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _ticksPerSecond = ticksPerSecond > 0 ? ticksPerSecond : Stopwatch.Frequency;
        _requests = new SlidingWindowCounter(windowSeconds);
        _retries = new SlidingWindowCounter(windowSeconds);
        _reserve = (double)minPerSecond * windowSeconds;
        Exhausted = exhausted ?? new Counter();
    }

    /// <summary>Retries allowed per request.</summary>
    public double Ratio { get; }

    /// <summary>Retries per second always allowed.</summary>
    public int MinPerSecond { get; }

    /// <summary>Withdrawals refused because the budget was spent.</summary>
    public Counter Exhausted { get; }

    /// <summary>A budget from configuration, with Stopwatch time.</summary>
    public static RetryBudget FromConfig(RetryBudgetConfig config, Counter? exhausted = null) =>
        new(config.Ratio, config.MinPerSecond, exhausted: exhausted);

    /// <summary>Records an original request (call once per downstream request, not per retry).</summary>
    public void Deposit() => _requests.Add(Second());

    /// <summary>Takes one retry from the budget; false (counted in <see cref="Exhausted"/>) when none is left.</summary>
    public bool TryWithdraw()
    {
        long second = Second();
        double allowed = (Ratio * _requests.Sum(second)) + _reserve;
        if (_retries.Sum(second) + 1 > allowed)
        {
            Exhausted.Increment();
            return false;
        }

        _retries.Add(second);
        return true;
    }

    /// <summary>Original requests in the current window.</summary>
    public long Requests => _requests.Sum(Second());

    /// <summary>Retries in the current window.</summary>
    public long Retries => _retries.Sum(Second());

    private long Second() => _clock() / _ticksPerSecond;
}
