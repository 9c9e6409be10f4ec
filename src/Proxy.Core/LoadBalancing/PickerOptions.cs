using System.Diagnostics;

namespace Proxy.LoadBalancing;

/// <summary>
/// Settings and injected dependencies shared by all pickers of a cluster. Immutable; one instance
/// can serve every cluster. Tests replace <see cref="Random"/> and <see cref="Clock"/> to script picks.
/// </summary>
public sealed class PickerOptions
{
    /// <summary>Default number of virtual nodes on a ring_hash ring (about 160 per endpoint for 100 endpoints).</summary>
    public const int DefaultRingSize = 16384;

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
    /// Total virtual nodes on a ring_hash ring, shared among endpoints in proportion to weight
    /// (each endpoint gets at least one). More nodes: smoother balance, more memory (12 bytes each).
    /// </summary>
    public int RingSize { get; init; } = DefaultRingSize;

    /// <summary>Size of the Maglev lookup table; must be prime and at least the number of endpoints.</summary>
    public int MaglevTableSize { get; init; } = DefaultMaglevTableSize;
}
