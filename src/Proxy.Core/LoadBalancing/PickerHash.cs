using System.Net;

namespace Proxy.LoadBalancing;

/// <summary>
/// Turns request attributes into the 64-bit keys of <see cref="PickContext"/> (XXH64, seed 0).
/// Allocation-free, so callers can hash a header value or client address on every request.
/// </summary>
public static class PickerHash
{
    /// <summary>Hashes raw key bytes, e.g. the value of a configured header as it arrived.</summary>
    public static ulong HashKey(ReadOnlySpan<byte> key) => XxHash64.Hash(key);

    /// <summary>Hashes an IPv4 or IPv6 address in network byte order (no string formatting).</summary>
    public static ulong HashKey(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        // 16 bytes always fit both families, so TryWriteBytes cannot fail here.
        address.TryWriteBytes(bytes, out int written);
        return XxHash64.Hash(bytes[..written]);
    }
}
