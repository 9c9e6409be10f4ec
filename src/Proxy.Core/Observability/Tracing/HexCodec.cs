namespace Proxy.Observability.Tracing;

/// <summary>Lower-case hexadecimal of trace and span ids, to and from ASCII bytes (W3C Trace Context uses lower case only).</summary>
internal static class HexCodec
{
    /// <summary>Writes <paramref name="value"/> as 16 lower-case hex digits.</summary>
    public static void Write(ulong value, Span<byte> destination)
    {
        for (int i = 15; i >= 0; i--)
        {
            int nibble = (int)(value & 0xF);
            destination[i] = (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
            value >>= 4;
        }
    }

    /// <summary>Reads up to 16 hex digits; <paramref name="allowUpper"/> accepts A-F too (B3 is lenient).</summary>
    public static bool TryRead(ReadOnlySpan<byte> text, bool allowUpper, out ulong value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 16)
        {
            return false;
        }

        foreach (byte b in text)
        {
            int nibble = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' when allowUpper => b - 'A' + 10,
                _ => -1,
            };
            if (nibble < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)nibble;
        }

        return true;
    }
}
