namespace Proxy.Observability.Tracing;

/// <summary>An 8-byte span id (W3C Trace Context section 3.2.2.4 "parent-id"); zero is invalid.</summary>
public readonly record struct SpanId(ulong Value)
{
    /// <summary>Hex length.</summary>
    public const int HexLength = 16;

    /// <summary>False for zero.</summary>
    public bool IsValid => Value != 0;

    /// <summary>Writes 16 lower-case hex digits.</summary>
    public void WriteHex(Span<byte> destination) => HexCodec.Write(Value, destination);

    /// <summary>The hex form (allocates; for logs and tests).</summary>
    public override string ToString()
    {
        Span<byte> hex = stackalloc byte[HexLength];
        WriteHex(hex);
        return System.Text.Encoding.ASCII.GetString(hex);
    }

    /// <summary>Parses exactly 16 hex digits.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, bool allowUpper, out SpanId id)
    {
        ulong value = 0;
        bool ok = text.Length == HexLength && HexCodec.TryRead(text, allowUpper, out value);
        id = new SpanId(ok ? value : 0);
        return ok;
    }
}
