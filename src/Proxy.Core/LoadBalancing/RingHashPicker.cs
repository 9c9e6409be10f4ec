using System.Runtime.CompilerServices;
using System.Text;
using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// ring_hash: Ketama-style consistent hashing. Each endpoint owns virtual nodes on a 64-bit ring, in
/// number proportional to its weight, placed by hashing its authority; a request goes to the first
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

    /// <summary>Places <see cref="PickerOptions.RingSize"/> virtual nodes for <paramref name="endpoints"/>.</summary>
    public RingHashPicker(Endpoint[] endpoints, PickerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RingSize, 1, nameof(options.RingSize));
        _endpoints = endpoints;
        _random = options.Random;
        (_ring, _owners) = BuildRing(endpoints, options.RingSize);
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

    private static (ulong[] Ring, int[] Owners) BuildRing(Endpoint[] endpoints, int ringSize)
    {
        if (endpoints.Length == 0)
        {
            return ([], []);
        }

        long totalWeight = 0;
        foreach (Endpoint endpoint in endpoints)
        {
            totalWeight += endpoint.Weight;
        }

        var nodes = new List<Node>(ringSize + endpoints.Length);
        for (int i = 0; i < endpoints.Length; i++)
        {
            // Node positions depend only on the authority and the node number, never on the endpoint's
            // index, so the ring is the same whatever order the configuration lists endpoints in.
            byte[] authority = Encoding.UTF8.GetBytes(endpoints[i].Authority);
            long count = Math.Max(1, (long)Math.Round((double)ringSize * endpoints[i].Weight / totalWeight));
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

    private readonly record struct Node(ulong Position, string Authority, int Owner);
}
