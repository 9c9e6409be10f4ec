using System.Text;
using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// maglev: consistent hashing through Google's Maglev lookup table (Eisenbud et al., NSDI 2016, §3.4).
/// Each endpoint fills table slots in the order of its own permutation, taking turns in proportion to
/// weight (as Envoy's weighted Maglev does); a request reads one slot, key mod table size. Lookup is O(1)
/// and the table spreads keys more evenly than a ring; an endpoint change moves slightly more than 1/N.
/// </summary>
public sealed class MaglevPicker : IEndpointPicker
{
    /// <summary>The configuration name.</summary>
    public const string PolicyName = "maglev";

    // A key whose slot belongs to an unhealthy endpoint is rehashed this many times (spreading that
    // endpoint's keys over the others while every other key stays put), then the table is scanned.
    private const int RehashAttempts = 8;

    private readonly Endpoint[] _endpoints;
    private readonly int[] _table;      // endpoint index per slot
    private readonly IRandomSource _random;

    /// <summary>Fills a table of <see cref="PickerOptions.MaglevTableSize"/> slots for <paramref name="endpoints"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The table size is not prime or is smaller than the endpoint count.</exception>
    public MaglevPicker(Endpoint[] endpoints, PickerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        int size = options.MaglevTableSize;
        if (!IsPrime(size))
        {
            throw new ArgumentOutOfRangeException(nameof(options), size, "The Maglev table size must be prime.");
        }

        if (size < endpoints.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(options), size, "The Maglev table size must be at least the number of endpoints.");
        }

        _endpoints = endpoints;
        _random = options.Random;
        _table = endpoints.Length == 0 ? [] : BuildTable(endpoints, size);
    }

    /// <summary>The lookup table: endpoint index per slot (exposed for tests).</summary>
    internal ReadOnlySpan<int> Table => _table;

    /// <inheritdoc />
    public Endpoint? Pick(in PickContext context)
    {
        int[] table = _table;
        if (table.Length == 0)
        {
            return null;
        }

        ulong key = context.HasHashKey ? context.HashKey : _random.NextUInt64();
        Endpoint[] endpoints = _endpoints;
        Endpoint endpoint = endpoints[table[(int)(key % (ulong)table.Length)]];
        if (endpoint.IsHealthy)
        {
            return endpoint;
        }

        return PickAvoidingUnhealthy(key);
    }

    private Endpoint? PickAvoidingUnhealthy(ulong key)
    {
        int[] table = _table;
        Endpoint[] endpoints = _endpoints;
        for (ulong attempt = 1; attempt <= RehashAttempts; attempt++)
        {
            Endpoint endpoint = endpoints[table[(int)(XxHash64.Hash(key, attempt) % (ulong)table.Length)]];
            if (endpoint.IsHealthy)
            {
                return endpoint;
            }
        }

        if (!RingHashPicker.AnyHealthy(endpoints))
        {
            return null;
        }

        // Most endpoints are down: walk the table from the key's slot to the next healthy owner.
        int slot = (int)(key % (ulong)table.Length);
        for (int step = 0; step < table.Length; step++)
        {
            Endpoint endpoint = endpoints[table[slot]];
            if (endpoint.IsHealthy)
            {
                return endpoint;
            }

            if (++slot == table.Length)
            {
                slot = 0;
            }
        }

        return null;
    }

    private static int[] BuildTable(Endpoint[] endpoints, int size)
    {
        // Endpoints take turns in authority order, not configuration order, so the table (and thus
        // every key's endpoint) does not change when the same endpoints are listed differently.
        int count = endpoints.Length;
        var order = new int[count];
        var authorities = new string[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
            authorities[i] = endpoints[i].Authority;
        }

        Array.Sort(authorities, order, StringComparer.Ordinal);

        // §3.4: offset = h1(name) mod M, skip = h2(name) mod (M - 1) + 1; endpoint i's preference list is
        // offset, offset + skip, offset + 2·skip, ... (mod M), a permutation of all slots because M is prime.
        var next = new long[count];
        var skip = new long[count];
        long maxWeight = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] name = Encoding.UTF8.GetBytes(endpoints[i].Authority);
            next[i] = (long)(XxHash64.Hash(name, 0) % (ulong)size);
            skip[i] = (long)(XxHash64.Hash(name, 1) % (ulong)(size - 1)) + 1;
            maxWeight = Math.Max(maxWeight, endpoints[i].Weight);
        }

        var table = new int[size];
        Array.Fill(table, -1);

        // Weighted turns: in round r an endpoint of weight w claims a slot while r·w has reached its
        // running target, which grows by the largest weight per claim; the heaviest endpoint claims
        // every round, one of a third of that weight every third round.
        var target = new long[count];
        Array.Fill(target, maxWeight);
        int filled = 0;
        for (long round = 1; filled < size; round++)
        {
            foreach (int i in order)
            {
                if (round * endpoints[i].Weight < target[i])
                {
                    continue;
                }

                target[i] += maxWeight;
                long slot = next[i];
                while (table[slot] >= 0)
                {
                    slot += skip[i];
                    if (slot >= size)
                    {
                        slot -= size;
                    }
                }

                table[slot] = i;
                next[i] = slot + skip[i] >= size ? slot + skip[i] - size : slot + skip[i];
                if (++filled == size)
                {
                    break;
                }
            }
        }

        return table;
    }

    private static bool IsPrime(int n)
    {
        if (n < 2)
        {
            return false;
        }

        for (int d = 2; (long)d * d <= n; d++)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
