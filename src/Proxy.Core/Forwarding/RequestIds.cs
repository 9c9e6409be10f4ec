using Proxy.LoadBalancing;
using Proxy.Observability.Tracing;

namespace Proxy.Forwarding;

/// <summary>
/// Generates x-request-id values: random, UUID-shaped (version 4 layout), from the shared
/// non-cryptographic generator. Guid.NewGuid asks the kernel for secure random bytes on every
/// call, which is a system call on the request path for an id that only needs to be unique.
/// </summary>
public static class RequestIds
{
    /// <summary>Length of an id: 8-4-4-4-12 hex digits.</summary>
    public const int Length = 36;

    /// <summary>Writes a new id into the first 36 bytes of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination)
    {
        var high = SharedRandomSource.Instance.NextUInt64();
        var low = SharedRandomSource.Instance.NextUInt64();
        high = (high & 0xFFFFFFFF_FFFF0FFF) | 0x0000_0000_0000_4000; // version 4
        low = (low & 0x3FFFFFFF_FFFFFFFF) | 0x80000000_00000000;     // RFC 4122 variant
        Span<byte> hex = stackalloc byte[32];
        HexCodec.Write(high, hex[..16]);
        HexCodec.Write(low, hex[16..]);
        hex[..8].CopyTo(destination);
        destination[8] = (byte)'-';
        hex[8..12].CopyTo(destination[9..]);
        destination[13] = (byte)'-';
        hex[12..16].CopyTo(destination[14..]);
        destination[18] = (byte)'-';
        hex[16..20].CopyTo(destination[19..]);
        destination[23] = (byte)'-';
        hex[20..32].CopyTo(destination[24..]);
    }
}
