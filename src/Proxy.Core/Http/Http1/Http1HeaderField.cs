namespace Proxy.Http.Http1;

/// <summary>
/// One field line located inside a head buffer: offsets only, no strings. The line's original
/// bytes (name through CRLF) are <c>buffer[NameStart .. NameStart + LineLength]</c>, which is what
/// the head writer forwards byte-for-byte.
/// </summary>
public readonly struct Http1HeaderField
{
    internal Http1HeaderField(int nameStart, int nameLength, int valueStart, int valueLength, int lineLength, KnownHeader kind, bool isHopByHop)
    {
        NameStart = nameStart;
        NameLength = nameLength;
        ValueStart = valueStart;
        ValueLength = valueLength;
        LineLength = lineLength;
        Kind = kind;
        IsHopByHop = isHopByHop;
    }

    /// <summary>Offset of the field name in the head buffer.</summary>
    public int NameStart { get; }

    /// <summary>Length of the field name.</summary>
    public int NameLength { get; }

    /// <summary>Offset of the value, after leading whitespace.</summary>
    public int ValueStart { get; }

    /// <summary>Length of the value without surrounding whitespace.</summary>
    public int ValueLength { get; }

    /// <summary>Length of the whole original line from the name through its CRLF.</summary>
    public int LineLength { get; }

    /// <summary>The recognised name, or <see cref="KnownHeader.None"/>.</summary>
    public KnownHeader Kind { get; }

    /// <summary>True when the field must not be forwarded: always hop-by-hop, or named by Connection.</summary>
    public bool IsHopByHop { get; }

    internal Http1HeaderField AsHopByHop() =>
        new(NameStart, NameLength, ValueStart, ValueLength, LineLength, Kind, isHopByHop: true);
}
