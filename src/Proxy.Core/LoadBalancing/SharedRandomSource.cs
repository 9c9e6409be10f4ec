using System.Buffers.Binary;

namespace Proxy.LoadBalancing;

/// <summary>
/// The production <see cref="IRandomSource"/>: <see cref="Random.Shared"/>, which is thread-safe
/// and keeps its generator state per thread, so concurrent picks do not contend.
/// </summary>
public sealed class SharedRandomSource : IRandomSource
{
    private SharedRandomSource()
    {
    }

    /// <summary>The single instance.</summary>
    public static SharedRandomSource Instance { get; } = new();

    /// <inheritdoc />
    public long Next(long maxExclusive) => Random.Shared.NextInt64(maxExclusive);

    /// <inheritdoc />
    public ulong NextUInt64()
    {
        // NextInt64() yields only 63 bits; ring positions need the full 64.
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        Random.Shared.NextBytes(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }
}
