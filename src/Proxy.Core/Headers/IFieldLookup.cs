namespace Proxy.Headers;

/// <summary>Whether a message already has a field: what a <c>set_if_absent</c> asks of the request or response it changes.</summary>
public interface IFieldLookup
{
    /// <summary>True when the message has a field named <paramref name="lowerName"/> (any case).</summary>
    bool Contains(ReadOnlySpan<byte> lowerName);
}
