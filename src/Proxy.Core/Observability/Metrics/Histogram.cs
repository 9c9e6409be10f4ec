namespace Proxy.Observability.Metrics;

/// <summary>
/// A cumulative histogram for one label set with fixed upper bounds; observation is lock-free
/// (one Interlocked add per bucket hit, the sum kept as a CAS-updated double).
/// </summary>
public sealed class Histogram
{
    private readonly double[] _upperBounds;
    private readonly long[] _counts; // per bucket, not cumulative; the last slot is +Inf
    private long _sumBits;

    public Histogram(double[] upperBounds)
    {
        _upperBounds = upperBounds;
        _counts = new long[upperBounds.Length + 1];
    }

    /// <summary>Bucket upper bounds, ascending, without +Inf.</summary>
    public ReadOnlySpan<double> UpperBounds => _upperBounds;

    public void Observe(double value)
    {
        var bounds = _upperBounds;
        var i = 0;
        while (i < bounds.Length && value > bounds[i])
        {
            i++;
        }

        Interlocked.Increment(ref _counts[i]);

        long seen = Interlocked.Read(ref _sumBits), wanted;
        do
        {
            wanted = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
        }
        while (seen != (seen = Interlocked.CompareExchange(ref _sumBits, wanted, seen)));
    }

    public double Sum => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits));

    /// <summary>Copies the cumulative bucket counts (including +Inf last) and returns the total count.</summary>
    public long CopyCumulative(Span<long> destination)
    {
        long running = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            destination[i] = running;
        }

        return running;
    }

    public long Count
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                total += Interlocked.Read(ref _counts[i]);
            }

            return total;
        }
    }
}
