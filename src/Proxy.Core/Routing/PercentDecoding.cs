namespace Proxy.Routing;

/// <summary>
/// Percent-decoding of query parameter names and values for matching (RFC 3986 section 2.1), the way Envoy decodes
/// them before its query_parameters matchers run: each "%XX" with two hex digits becomes that byte, a '%' not
/// followed by two hex digits stays as it is, and '+' is left alone (it is a space only in HTML form encoding).
/// </summary>
internal static class PercentDecoding
{
    /// <summary>Decodes <paramref name="source"/> into <paramref name="destination"/> (at least as long); returns the decoded length.</summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int written = 0;
        for (int i = 0; i < source.Length; i++)
        {
            byte b = source[i];
            if (b == (byte)'%' && i + 2 < source.Length && TryHex(source[i + 1], out int high) && TryHex(source[i + 2], out int low))
            {
                destination[written++] = (byte)((high << 4) | low);
                i += 2;
            }
            else
            {
                destination[written++] = b;
            }
        }

        return written;
    }

    private static bool TryHex(byte b, out int value)
    {
        value = b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
