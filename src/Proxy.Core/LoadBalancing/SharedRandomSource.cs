namespace Proxy.LoadBalancing;

/// <summary>
/// The production <see cref="IRandomSource"/>: a SplitMix64 generator per thread, seeded from
/// <see cref="Random.Shared"/>. Threads never share state, so concurrent picks neither contend nor
/// lock, and a draw costs a few multiplications (Random.Shared costs several times more per call).
/// </summary>
/// <remarks>Statistical quality is ample for load balancing; this is not a cryptographic generator.</remarks>
public sealed class SharedRandomSource : IRandomSource
{
    [ThreadStatic]
    private static ulong t_state;

    private SharedRandomSource()
    {
    }

    /// <summary>The single instance.</summary>
    public static SharedRandomSource Instance { get; } = new();

    /// <inheritdoc />
    public long Next(long maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);
        // Lemire's multiply-shift maps 64 random bits onto [0, max); the bias is at most max / 2^64.
        return (long)Math.BigMul(NextUInt64(), (ulong)maxExclusive, out _);
    }

    /// <inheritdoc />
    public ulong NextUInt64()
    {
        // SplitMix64 (Steele, Lea, Flood 2014): a Weyl sequence through a strong 64-bit finalizer.
        ulong state = t_state;
        if (state == 0)
        {
            state = Seed();
        }

        state += 0x9E3779B97F4A7C15UL;
        t_state = state;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Seed() => (ulong)Random.Shared.NextInt64() | 1;
}
