namespace Proxy.Observability.Tracing;

/// <summary>A 16-byte trace id (W3C Trace Context section 3.2.2.3) as two 64-bit halves; all zero is invalid.</summary>
public readonly record struct TraceId(ulong High, ulong Low)
{
    /// <summary>Hex length.</summary>
    public const int HexLength = 32;

    /// <summary>False for the all-zero id.</summary>
    public bool IsValid => (High | Low) != 0;

    /// <summary>Writes 32 lower-case hex digits.</summary>
    public void WriteHex(Span<byte> destination)
    {
        HexCodec.Write(High, destination);
        HexCodec.Write(Low, destination[16..]);
    }

    /// <summary>The hex form (allocates; for logs and tests).</summary>
    public override string ToString()
    {
        Span<byte> hex = stackalloc byte[HexLength];
        WriteHex(hex);
        return System.Text.Encoding.ASCII.GetString(hex);
    }

    /// <summary>Parses 32 hex digits, or 16 (a 64-bit B3 id, left-padded with zeros).</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, bool allowUpper, out TraceId id)
    {
        id = default;
        if (text.Length == 16 && HexCodec.TryRead(text, allowUpper, out ulong low64))
        {
            id = new TraceId(0, low64);
            return true;
        }

        if (text.Length == HexLength && HexCodec.TryRead(text[..16], allowUpper, out ulong high) && HexCodec.TryRead(text[16..], allowUpper, out ulong low))
        {
            id = new TraceId(high, low);
            return true;
        }

        return false;
    }
}
