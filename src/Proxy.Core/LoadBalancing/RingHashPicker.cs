using System.Runtime.CompilerServices;
using System.Text;
using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// ring_hash: Ketama-style consistent hashing. Each endpoint owns virtual nodes on a 64-bit ring, a
/// fixed number per unit of weight, placed by hashing its authority; a request goes to the first
/// node at or after its hash key. Adding or removing one of N endpoints moves only about 1/N of keys,
/// and a key maps to the same endpoint whenever the picker is rebuilt from the same endpoints.
/// </summary>
public sealed class RingHashPicker : IEndpointPicker
{
    /// <summary>The configuration name.</summary>
    public const string PolicyName = "ring_hash";

    // Unhealthy owners are skipped by walking clockwise; after this many steps, first make sure some
    // endpoint is healthy at all, so a fully unhealthy cluster costs O(n), not a walk of the whole ring.
    private const int WalkBeforeHealthCheck = 64;

    private readonly Endpoint[] _endpoints;
    private readonly ulong[] _ring;    // sorted node positions
    private readonly int[] _owners;    // endpoint index of each node
    private readonly IRandomSource _random;

    /// <summary>
    /// Places <see cref="PickerOptions.RingNodesPerWeight"/> virtual nodes per unit of weight for each of
    /// <paramref name="endpoints"/>, at most <see cref="PickerOptions.MaxRingSize"/> in all.
    /// </summary>
    public RingHashPicker(Endpoint[] endpoints, PickerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RingNodesPerWeight, 1, nameof(options.RingNodesPerWeight));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRingSize, 1, nameof(options.MaxRingSize));
        _endpoints = endpoints;
        _random = options.Random;
        (_ring, _owners) = BuildRing(endpoints, options.RingNodesPerWeight, options.MaxRingSize);
    }

    /// <summary>Number of virtual nodes on the ring.</summary>
    public int RingLength => _ring.Length;

    /// <inheritdoc />
    public Endpoint? Pick(in PickContext context)
    {
        ulong[] ring = _ring;
        if (ring.Length == 0)
        {
            return null;
        }

        ulong key = context.HasHashKey ? context.HashKey : _random.NextUInt64();

        // First node at or after the key, wrapping past the top of the ring to the first node.
        int node = ring.AsSpan().BinarySearch(key);
        if (node < 0)
        {
            node = ~node;
        }

        if (node == ring.Length)
        {
            node = 0;
        }

        Endpoint[] endpoints = _endpoints;
        int[] owners = _owners;
        for (int step = 0; step < ring.Length; step++)
        {
            Endpoint endpoint = endpoints[owners[node]];
            if (endpoint.IsHealthy)
            {
                return endpoint;
            }

            if (step == WalkBeforeHealthCheck && !AnyHealthy(endpoints))
            {
                return null;
            }

            if (++node == ring.Length)
            {
                node = 0;
            }
        }

        return null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static bool AnyHealthy(Endpoint[] endpoints)
    {
        foreach (Endpoint endpoint in endpoints)
        {
            if (endpoint.IsHealthy)
            {
                return true;
            }
        }

        return false;
    }

    private static (ulong[] Ring, int[] Owners) BuildRing(Endpoint[] endpoints, int nodesPerWeight, int maxRingSize)
    {
        if (endpoints.Length == 0)
        {
            return ([], []);
        }

        // Weights 100, 200 place as many nodes as 1, 2: only the ratios matter.
        int divisor = 0;
        foreach (Endpoint endpoint in endpoints)
        {
            divisor = Gcd(divisor, endpoint.Weight);
        }

        double total = 0;
        foreach (Endpoint endpoint in endpoints)
        {
            total += (double)(endpoint.Weight / divisor) * nodesPerWeight;
        }

        double scale = Math.Min(1, maxRingSize / total);
        var nodes = new List<Node>((int)Math.Min(total, maxRingSize) + endpoints.Length);
        for (int i = 0; i < endpoints.Length; i++)
        {
            // Node n of an endpoint sits at XXH64(authority, seed n): positions depend only on the
            // authority, never on the endpoint's index, so listing order does not change the ring, and
            // an endpoint's nodes stay put when others come and go.
            byte[] authority = Encoding.UTF8.GetBytes(endpoints[i].Authority);
            long count = Math.Max(1, (long)Math.Round((double)(endpoints[i].Weight / divisor) * nodesPerWeight * scale));
            for (long n = 0; n < count; n++)
            {
                nodes.Add(new Node(XxHash64.Hash(authority, (ulong)n), endpoints[i].Authority, i));
            }
        }

        // Ties (only with duplicate authorities, or a 2^-64 collision) are broken by authority, then
        // by index, so equal inputs always give equal rings.
        nodes.Sort(static (x, y) =>
        {
            int order = x.Position.CompareTo(y.Position);
            if (order == 0)
            {
                order = string.CompareOrdinal(x.Authority, y.Authority);
            }

            return order != 0 ? order : x.Owner.CompareTo(y.Owner);
        });

        var ring = new ulong[nodes.Count];
        var owners = new int[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            ring[i] = nodes[i].Position;
            owners[i] = nodes[i].Owner;
        }

        return (ring, owners);
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    private readonly record struct Node(ulong Position, string Authority, int Owner);
}
