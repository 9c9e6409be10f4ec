namespace Proxy.Observability.Tracing;

/// <summary>Lower-case hexadecimal of trace and span ids, to and from ASCII bytes (W3C Trace Context uses lower case only).</summary>
internal static class HexCodec
{
    /// <summary>Writes <paramref name="value"/> as 16 lower-case hex digits.</summary>
    /// <remarks>
    /// A table lookup per digit, without branches: the digits of random ids are random, and a "below ten?" test per
    /// digit was mispredicted half the time (this runs three times per request, for traceparent and x-request-id).
    /// </remarks>
    public static void Write(ulong value, Span<byte> destination)
    {
        ReadOnlySpan<byte> digits = "0123456789abcdef"u8;
        destination = destination[..16];
        for (int i = 15; i >= 0; i--)
        {
            destination[i] = digits[(int)(value & 0xF)];
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
