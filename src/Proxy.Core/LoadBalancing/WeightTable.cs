using System.Runtime.CompilerServices;
using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// Weighted random choice of an endpoint index, shared by the random, least_request and peak_ewma
/// pickers. Built once per snapshot; sampling is a binary search over cumulative weights, or a single
/// bounded random number when all weights are equal.
/// </summary>
internal readonly struct WeightTable
{
    // Rejection sampling keeps the exact weighted distribution over healthy endpoints and is cheap
    // while most endpoints are healthy; after this many misses an O(n) scan finishes the job.
    private const int RejectionAttempts = 3;

    // cumulative[i] = weight[0] + ... + weight[i]; null when every weight is equal (uniform choice).
    private readonly long[]? _cumulative;

    public WeightTable(Endpoint[] endpoints)
    {
        Count = endpoints.Length;
        bool uniform = true;
        var cumulative = new long[endpoints.Length];
        long total = 0;
        for (int i = 0; i < endpoints.Length; i++)
        {
            uniform &= endpoints[i].Weight == endpoints[0].Weight;
            total += endpoints[i].Weight;
            cumulative[i] = total;
        }

        Total = total;
        _cumulative = uniform ? null : cumulative;
    }

    /// <summary>Number of endpoints.</summary>
    public int Count { get; }

    /// <summary>Sum of all weights.</summary>
    public long Total { get; }

    /// <summary>An index chosen with probability weight/Total, ignoring health. Count must be positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Sample(IRandomSource random)
    {
        long[]? cumulative = _cumulative;
        if (cumulative is null)
        {
            return (int)random.Next(Count);
        }

        // The first index whose cumulative weight exceeds r owns r (weights are >= 1, so strictly increasing).
        long r = random.Next(Total);
        int found = cumulative.AsSpan().BinarySearch(r);
        return found >= 0 ? found + 1 : ~found;
    }

    /// <summary>
    /// An index of a healthy endpoint, chosen with probability proportional to weight among the
    /// healthy ones; -1 when none is healthy (or Count is zero).
    /// </summary>
    public int SampleHealthy(Endpoint[] endpoints, IRandomSource random)
    {
        if (Count == 0)
        {
            return -1;
        }

        for (int attempt = 0; attempt < RejectionAttempts; attempt++)
        {
            int index = Sample(random);
            if (endpoints[index].IsHealthy)
            {
                return index;
            }
        }

        return SampleHealthyByScan(endpoints, random);
    }

    /// <summary>
    /// A healthy index other than <paramref name="exclude"/>, for the second of two choices; -1 when
    /// the rejection attempts find none (the caller then goes with its first choice). With equal weights
    /// the draw excludes the first choice directly, so two endpoints are always compared.
    /// </summary>
    public int SampleOtherHealthy(Endpoint[] endpoints, IRandomSource random, int exclude)
    {
        if (Count < 2)
        {
            return -1;
        }

        for (int attempt = 0; attempt < RejectionAttempts; attempt++)
        {
            int index;
            if (_cumulative is null)
            {
                index = (int)random.Next(Count - 1);
                if (index >= exclude)
                {
                    index++;
                }
            }
            else
            {
                index = Sample(random);
            }

            if (index != exclude && endpoints[index].IsHealthy)
            {
                return index;
            }
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SampleHealthyByScan(Endpoint[] endpoints, IRandomSource random)
    {
        long healthyTotal = 0;
        foreach (Endpoint endpoint in endpoints)
        {
            if (endpoint.IsHealthy)
            {
                healthyTotal += endpoint.Weight;
            }
        }

        if (healthyTotal == 0)
        {
            return -1;
        }

        long r = random.Next(healthyTotal);
        int lastHealthy = -1;
        for (int i = 0; i < endpoints.Length; i++)
        {
            if (!endpoints[i].IsHealthy)
            {
                continue;
            }

            lastHealthy = i;
            r -= endpoints[i].Weight;
            if (r < 0)
            {
                return i;
            }
        }

        // Health changed between the two passes; any endpoint still healthy will do.
        return lastHealthy;
    }
}
