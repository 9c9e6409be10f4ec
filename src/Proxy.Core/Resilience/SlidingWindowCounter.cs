namespace Proxy.Resilience;

/// <summary>
/// A lock-free count of events over the last <c>buckets</c> seconds, in one-second buckets. Each bucket
/// is one long holding the second it belongs to (high 32 bits) and its count (low 32 bits), so a single
/// CompareExchange both restarts a stale bucket and counts into it: no event is lost to a reset race.
/// </summary>
public sealed class SlidingWindowCounter
{
    private readonly long[] _buckets;

    public SlidingWindowCounter(int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        _buckets = new long[buckets];
    }

    /// <summary>Width of the window in seconds.</summary>
    public int WindowSeconds => _buckets.Length;

    /// <summary>Counts one event at <paramref name="second"/> (a monotonic second number, e.g. Stopwatch ticks / frequency).</summary>
    public void Add(long second)
    {
        uint epoch = (uint)second;
        ref long bucket = ref _buckets[(int)((ulong)second % (ulong)_buckets.Length)];
        long current = Volatile.Read(ref bucket);
        while (true)
        {
            long next = (uint)(current >> 32) == epoch
                ? current + 1
                : ((long)epoch << 32) | 1;
            if ((uint)next == 0)
            {
                // 2^32 events in one second: saturate rather than wrap into the epoch.
                return;
            }

            long seen = Interlocked.CompareExchange(ref bucket, next, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Events in the window that ends at <paramref name="second"/> (that second and the <c>buckets - 1</c> before).</summary>
    public long Sum(long second)
    {
        long total = 0;
        uint now = (uint)second;
        for (int i = 0; i < _buckets.Length; i++)
        {
            long value = Volatile.Read(ref _buckets[i]);
            uint age = now - (uint)(value >> 32);
            if (age < (uint)_buckets.Length)
            {
                total += (uint)value;
            }
        }

        return total;
    }
}
