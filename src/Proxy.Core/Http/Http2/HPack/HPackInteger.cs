using System.Buffers;

namespace Proxy.Http.Http2.HPack;

/// <summary>
/// The prefixed integer representation of RFC 7541 section 5.1, used by every HPACK field
/// representation (indexes, string lengths, table size updates).
/// </summary>
public static class HPackInteger
{
    /// <summary>Largest number of bytes an encoded 31-bit integer can take (one prefix byte and five continuation bytes).</summary>
    public const int MaxEncodedLength = 6;

    // RFC 7541 5.1:
    //   if I < 2^N - 1, encode I on N bits
    //   else
    //       encode (2^N - 1) on N bits
    //       I = I - (2^N - 1)
    //       while I >= 128
    //            encode (I % 128 + 128) on 8 bits
    //            I = I / 128
    //       encode I on 8 bits

    /// <summary>
    /// Writes <paramref name="value"/> with an N-bit prefix (<paramref name="prefixBits"/> 1..8). The bits above
    /// the prefix in the first byte come from <paramref name="firstByteFlags"/> (the representation's pattern).
    /// Returns false, writing nothing useful, when <paramref name="destination"/> is too small.
    /// </summary>
    public static bool TryEncode(int value, int prefixBits, byte firstByteFlags, Span<byte> destination, out int bytesWritten)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        bytesWritten = 0;
        if (destination.IsEmpty)
        {
            return false;
        }

        int max = (1 << prefixBits) - 1;
        if (value < max)
        {
            destination[0] = (byte)(firstByteFlags | value);
            bytesWritten = 1;
            return true;
        }

        destination[0] = (byte)(firstByteFlags | max);
        uint rest = (uint)(value - max);
        int i = 1;
        while (rest >= 128)
        {
            if ((uint)i >= (uint)destination.Length)
            {
                return false;
            }

            destination[i++] = (byte)((rest & 0x7F) | 0x80);
            rest >>= 7;
        }

        if ((uint)i >= (uint)destination.Length)
        {
            return false;
        }

        destination[i++] = (byte)rest;
        bytesWritten = i;
        return true;
    }

    /// <summary>
    /// Reads an integer with an N-bit prefix from the start of <paramref name="source"/> (the bits above the
    /// prefix are ignored). Returns <see cref="OperationStatus.NeedMoreData"/> when the input ends inside the
    /// integer and <see cref="OperationStatus.InvalidData"/> when it exceeds 2^31-1 (the overflow check of
    /// RFC 7541 section 7.1.2 / 5.1 "integer values that exceed implementation limits").
    /// </summary>
    public static OperationStatus Decode(ReadOnlySpan<byte> source, int prefixBits, out int value, out int bytesConsumed)
    {
        value = 0;
        bytesConsumed = 0;
        if (source.IsEmpty)
        {
            return OperationStatus.NeedMoreData;
        }

        int max = (1 << prefixBits) - 1;
        int prefix = source[0] & max;
        if (prefix < max)
        {
            value = prefix;
            bytesConsumed = 1;
            return OperationStatus.Done;
        }

        ulong result = (ulong)max;
        int shift = 0;
        for (int i = 1; i < source.Length; i++)
        {
            byte b = source[i];
            result += (ulong)(b & 0x7F) << shift;
            if (result > int.MaxValue)
            {
                return OperationStatus.InvalidData;
            }

            if ((b & 0x80) == 0)
            {
                value = (int)result;
                bytesConsumed = i + 1;
                return OperationStatus.Done;
            }

            shift += 7;
            if (shift > 28)
            {
                // A sixth continuation byte can only be an overlong (zero-padded) or overflowing encoding.
                return OperationStatus.InvalidData;
            }
        }

        return OperationStatus.NeedMoreData;
    }
}
