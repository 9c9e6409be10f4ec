using System.Diagnostics;

namespace Proxy.LoadBalancing;

/// <summary>
/// Settings and injected dependencies shared by all pickers of a cluster. Immutable; one instance
/// can serve every cluster. Tests replace <see cref="Random"/> and <see cref="Clock"/> to script picks.
/// </summary>
public sealed class PickerOptions
{
    /// <summary>Default ring_hash virtual nodes per unit of weight: libketama's 160 points per server.</summary>
    public const int DefaultRingNodesPerWeight = 160;

    /// <summary>Default cap on ring_hash virtual nodes (3 MB of ring): 1,638 endpoints of weight 1 at the default density.</summary>
    public const int DefaultMaxRingSize = 1 << 18;

    /// <summary>Default Maglev lookup table size: the prime the Maglev paper and Envoy use.</summary>
    public const int DefaultMaglevTableSize = 65537;

    /// <summary>Options with production defaults: shared randomness and the Stopwatch clock.</summary>
    public static PickerOptions Default { get; } = new();

    /// <summary>Source of randomness for random choices, P2C candidates and keyless hashing.</summary>
    public IRandomSource Random { get; init; } = SharedRandomSource.Instance;

    /// <summary>
    /// Current time in <see cref="Stopwatch"/> ticks (<see cref="Stopwatch.Frequency"/> per second),
    /// the same unit the forwarder passes to <c>Endpoint.OnRequestCompleted(latency, nowTicks)</c>.
    /// </summary>
    public Func<long> Clock { get; init; } = Stopwatch.GetTimestamp;

    /// <summary>
    /// ring_hash virtual nodes per unit of weight (weights are first divided by their greatest common
    /// divisor). A fixed count per endpoint, rather than a fixed ring size shared out, is what keeps
    /// the other endpoints' nodes, and so their keys, in place when an endpoint is added or removed.
    /// </summary>
    public int RingNodesPerWeight { get; init; } = DefaultRingNodesPerWeight;

    /// <summary>
    /// Upper bound on ring_hash virtual nodes (12 bytes each). A ring that would be larger is scaled down
    /// in proportion, which keeps balance but gives up part of the stability guarantee for that cluster.
    /// </summary>
    public int MaxRingSize { get; init; } = DefaultMaxRingSize;

    /// <summary>Size of the Maglev lookup table; must be prime and at least the number of endpoints.</summary>
    public int MaglevTableSize { get; init; } = DefaultMaglevTableSize;
}
