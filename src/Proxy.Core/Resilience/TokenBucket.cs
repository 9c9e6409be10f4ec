using System.Diagnostics;
using Proxy.Configuration;

namespace Proxy.Resilience;

/// <summary>
/// A lock-free token bucket (<c>requests_per_second</c>, <c>burst</c>) for a route's rate limit; a refused
/// request is answered 429. Implemented as the generic cell rate algorithm (GCRA, ITU-T I.371): one long holds
/// the theoretical arrival time of the next request, and one CompareExchange admits a request, so concurrent
/// callers never lock and never allocate. Equivalent to a bucket of <c>burst</c> tokens refilled at the rate.
/// </summary>
public sealed class TokenBucket
{
    private readonly Func<long> _clock;
    private readonly long _emissionTicks;
    private readonly long _burstTicks;
    private long _theoreticalArrival = long.MinValue / 2;
    private long _refused;

    /// <param name="requestsPerSecond">Refill rate (at least 1).</param>
    /// <param name="burst">Bucket size (at least 1).</param>
    /// <param name="clock">Now in Stopwatch ticks (default Stopwatch.GetTimestamp).</param>
    public TokenBucket(int requestsPerSecond, int burst, Func<long>? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        RequestsPerSecond = requestsPerSecond;
        Burst = burst;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _emissionTicks = Math.Max(1, Stopwatch.Frequency / requestsPerSecond);
        _burstTicks = _emissionTicks * burst;
    }

    /// <summary>Refill rate.</summary>
    public int RequestsPerSecond { get; }

    /// <summary>Bucket size.</summary>
    public int Burst { get; }

    /// <summary>Requests refused.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>A bucket from a route's <c>rate_limit</c> section.</summary>
    public static TokenBucket FromConfig(RateLimitConfig config, Func<long>? clock = null) =>
        new(config.RequestsPerSecond, config.Burst, clock);

    /// <summary>Takes one token; false (answer 429) when the bucket is empty.</summary>
    public bool TryAcquire()
    {
        long now = _clock();
        long current = Volatile.Read(ref _theoreticalArrival);
        while (true)
        {
            // A full bucket is an arrival time in the past; each token moves it one emission interval later.
            long next = Math.Max(current, now) + _emissionTicks;
            if (next - now > _burstTicks)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _theoreticalArrival, next, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    /// <summary>Time until a token is available (zero when one is), for a Retry-After header.</summary>
    public TimeSpan RetryAfter()
    {
        long wait = Volatile.Read(ref _theoreticalArrival) + _emissionTicks - _burstTicks - _clock();
        return wait <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency);
    }
}
