using System.Net;

namespace Proxy.LoadBalancing;

/// <summary>
/// What a picker may know about the request: an optional 64-bit hash key, computed by the caller from a configured
/// header or the client address (see <see cref="PickerHash"/>), which the hashing pickers use, and the connection's
/// destination, which an original-destination cluster uses.
/// </summary>
public readonly struct PickContext
{
    /// <summary>A context with a hash key.</summary>
    public PickContext(ulong hashKey)
    {
        HashKey = hashKey;
        HasHashKey = true;
    }

    /// <summary>No hash key: hashing pickers fall back to a random key.</summary>
    public static PickContext None => default;

    /// <summary>The request's hash key; meaningful only when <see cref="HasHashKey"/> is true.</summary>
    public ulong HashKey { get; }

    /// <summary>True when the caller supplied a hash key.</summary>
    public bool HasHashKey { get; }

    /// <summary>
    /// Where the client's connection was going (its original destination behind interception, else the accepted
    /// address): what an original-destination cluster connects to. Null when the listener does not need it.
    /// </summary>
    public IPEndPoint? Destination { get; init; }

    /// <summary>A context keyed by the hash of <paramref name="key"/> (for example a header value).</summary>
    public static PickContext ForKey(ReadOnlySpan<byte> key) => new(PickerHash.HashKey(key));

    /// <summary>A context keyed by the client's address (source-IP affinity).</summary>
    public static PickContext ForAddress(IPAddress address) => new(PickerHash.HashKey(address));
}
