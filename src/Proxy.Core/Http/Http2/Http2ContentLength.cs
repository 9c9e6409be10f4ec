namespace Proxy.Http.Http2;

/// <summary>
/// Reads the content-length of an HTTP/2 message, which RFC 9113 8.1.1 checks against the DATA actually received.
/// </summary>
public static class Http2ContentLength
{
    /// <summary>No content-length field.</summary>
    public const long Absent = -1;

    /// <summary>A content-length that is not one non-negative decimal value: the message is malformed.</summary>
    public const long Invalid = -2;

    /// <summary>
    /// The declared length, <see cref="Absent"/>, or <see cref="Invalid"/>. Several fields, or one field listing
    /// several values ("42, 42"), are accepted only when every value is the same (RFC 9110 8.6); anything else is
    /// malformed, since a recipient could not tell which length frames the content.
    /// </summary>
    public static long Parse(Http2HeaderList headers)
    {
        long length = Absent;
        for (int i = 0; i < headers.Count; i++)
        {
            if (!headers.GetName(i).SequenceEqual("content-length"u8))
            {
                continue;
            }

            ReadOnlySpan<byte> rest = headers.GetValue(i);
            while (true)
            {
                int comma = rest.IndexOf((byte)',');
                long value = ParseDecimal((comma < 0 ? rest : rest[..comma]).Trim(" \t"u8));
                if (value < 0 || (length >= 0 && value != length))
                {
                    return Invalid;
                }

                length = value;
                if (comma < 0)
                {
                    break;
                }

                rest = rest[(comma + 1)..];
            }
        }

        return length;
    }

    // 1*DIGIT (RFC 9110 8.6), at most 18 digits so the value cannot overflow; -1 when not a number.
    private static long ParseDecimal(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty || digits.Length > 18)
        {
            return -1;
        }

        long value = 0;
        foreach (byte b in digits)
        {
            if ((uint)(b - '0') > 9)
            {
                return -1;
            }

            value = (value * 10) + (b - '0');
        }

        return value;
    }
}
