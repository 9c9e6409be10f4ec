using Proxy.LoadBalancing;

namespace Proxy.Tests.LoadBalancing;

/// <summary>A reproducible <see cref="IRandomSource"/> for distribution tests (single-threaded use only).</summary>
internal sealed class SeededRandom(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public long Next(long maxExclusive) => _random.NextInt64(maxExclusive);

    public ulong NextUInt64() => (ulong)_random.NextInt64() ^ ((ulong)_random.Next(2) << 63);
}
