using System.Runtime.CompilerServices;
using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// round_robin: weighted round robin in nginx's smooth order (weights 5,1,1 give a a b a c a a rather
/// than a a a a a b c). The order is precomputed into a schedule when the snapshot is built; picking is
/// one Interlocked increment and an array read, so concurrent callers never wait on each other.
/// </summary>
public sealed class RoundRobinPicker : IEndpointPicker
{
    /// <summary>The configuration name.</summary>
    public const string PolicyName = "round_robin";

    /// <summary>Longest schedule kept; larger weight sums are scaled down to fit (weights stay at least 1).</summary>
    internal const int MaxScheduleLength = 1 << 16;

    // Unhealthy slots are passed over; after this many in a row the slow path chooses among the
    // healthy endpoints directly instead of walking a long stretch of the schedule.
    private const int ProbeLimit = 8;

    private readonly Endpoint[] _endpoints;
    private readonly int[] _schedule;
    private PaddedCounter _next;

    /// <summary>Builds the schedule for <paramref name="endpoints"/>.</summary>
    public RoundRobinPicker(Endpoint[] endpoints, PickerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        _endpoints = endpoints;
        _schedule = BuildSchedule(endpoints);
        // Start at a random slot, so that proxies restarted together do not all hit the first endpoint.
        _next.Value = _schedule.Length == 0 ? 0 : options.Random.Next(_schedule.Length);
    }

    /// <inheritdoc />
    public Endpoint? Pick(in PickContext context)
    {
        int[] schedule = _schedule;
        if (schedule.Length == 0)
        {
            return null;
        }

        long ticket = Interlocked.Increment(ref _next.Value) - 1;
        int slot = (int)((ulong)ticket % (ulong)schedule.Length);
        Endpoint[] endpoints = _endpoints;
        for (int probe = 0; probe < ProbeLimit; probe++)
        {
            Endpoint endpoint = endpoints[schedule[slot]];
            if (endpoint.IsHealthy)
            {
                return endpoint;
            }

            if (++slot == schedule.Length)
            {
                slot = 0;
            }
        }

        return PickAmongHealthy(endpoints, ticket);
    }

    /// <summary>The precomputed order of endpoint indexes (exposed for tests).</summary>
    internal ReadOnlySpan<int> Schedule => _schedule;

    // Weighted choice among the healthy endpoints, driven by the ticket rather than randomness, so the
    // picker stays deterministic and still spreads load in proportion to weight over consecutive tickets.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Endpoint? PickAmongHealthy(Endpoint[] endpoints, long ticket)
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
            return null;
        }

        long r = (long)((ulong)ticket % (ulong)healthyTotal);
        Endpoint? lastHealthy = null;
        foreach (Endpoint endpoint in endpoints)
        {
            if (!endpoint.IsHealthy)
            {
                continue;
            }

            lastHealthy = endpoint;
            r -= endpoint.Weight;
            if (r < 0)
            {
                return endpoint;
            }
        }

        return lastHealthy;
    }

    private static int[] BuildSchedule(Endpoint[] endpoints)
    {
        int count = endpoints.Length;
        if (count == 0)
        {
            return [];
        }

        // Reduce the weights by their common divisor: 100,200,300 needs 6 slots, not 600.
        int divisor = 0;
        foreach (Endpoint endpoint in endpoints)
        {
            divisor = Gcd(divisor, endpoint.Weight);
        }

        var weights = new long[count];
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            weights[i] = endpoints[i].Weight / divisor;
            total += weights[i];
        }

        if (total > MaxScheduleLength)
        {
            long scaledTotal = 0;
            for (int i = 0; i < count; i++)
            {
                weights[i] = Math.Max(1, (long)Math.Round((double)weights[i] * MaxScheduleLength / total));
                scaledTotal += weights[i];
            }

            total = scaledTotal;
        }

        // nginx smooth weighted round robin (ngx_http_upstream_get_peer): every step each endpoint's
        // current value grows by its weight, the largest wins and pays back the total. Over one cycle of
        // `total` steps each endpoint wins exactly `weight` times, spread as evenly as possible.
        var schedule = new int[total];
        var current = new long[count];
        for (int step = 0; step < schedule.Length; step++)
        {
            int best = 0;
            for (int i = 0; i < count; i++)
            {
                current[i] += weights[i];
                if (current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            schedule[step] = best;
        }

        return schedule;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
