namespace Proxy.Headers;

/// <summary>A message's fields as header changes and the metadata exchange read them (<c>set_if_absent</c>, a peer's metadata).</summary>
public interface IFieldLookup
{
    /// <summary>True when the message has a field named <paramref name="lowerName"/> (any case).</summary>
    bool Contains(ReadOnlySpan<byte> lowerName);

    /// <summary>The value of the first field named <paramref name="lowerName"/> (any case), if there is one.</summary>
    bool TryGetValue(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value);
}
