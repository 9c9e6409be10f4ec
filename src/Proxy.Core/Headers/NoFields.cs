namespace Proxy.Headers;

/// <summary>A message without fields: what a response the proxy makes itself looks like to its route's additions.</summary>
public readonly ref struct NoFields : IFieldLookup
{
    public bool Contains(ReadOnlySpan<byte> lowerName) => false;

    public bool TryGetValue(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value)
    {
        value = default;
        return false;
    }
}
