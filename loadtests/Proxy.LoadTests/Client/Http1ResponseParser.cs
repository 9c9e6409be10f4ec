using System.Buffers.Text;
using System.Text;

namespace Proxy.LoadTests.Client;

/// <summary>
/// A minimal HTTP/1.1 response head parser: the status code and the three headers that decide
/// body framing and connection reuse. Everything else is skipped, which keeps the client cheap.
/// </summary>
public static class Http1ResponseParser
{
    /// <summary>Heads larger than this are treated as a protocol error rather than buffered forever.</summary>
    public const int MaxHeadBytes = 32 * 1024;

    /// <summary>Parses a complete head at the start of <paramref name="input"/>, or says more bytes are needed.</summary>
    public static ParseStatus TryParseHead(ReadOnlySpan<byte> input, out ResponseHead head)
    {
        head = default;
        int end = input.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return input.Length > MaxHeadBytes ? ParseStatus.Invalid : ParseStatus.NeedMore;
        }

        var section = input[..(end + 2)];
        int lineEnd = section.IndexOf("\r\n"u8);
        var statusLine = section[..lineEnd];

        // RFC 9112 section 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out int digits) || digits != 3
            || (statusLine.Length > 12 && statusLine[12] != (byte)' '))
        {
            return ParseStatus.Invalid;
        }

        // An HTTP/1.0 server closes after each response unless it says keep-alive (RFC 9112 section 9.3).
        bool http10 = statusLine[7] == (byte)'0';
        bool close = http10;
        long contentLength = -1;
        bool chunked = false;

        var rest = section[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            int eol = rest.IndexOf("\r\n"u8);
            var line = rest[..eol];
            rest = rest[(eol + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                return ParseStatus.Invalid;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ').Trim((byte)'\t');
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out int used) || used != value.Length || contentLength < 0)
                {
                    return ParseStatus.Invalid;
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                // RFC 9112 section 6.1: chunked is the final coding when present.
                chunked = value.Length >= 7 && Ascii.EqualsIgnoreCase(value[^7..], "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                if (ContainsIgnoreCase(value, "close"u8))
                {
                    close = true;
                }
                else if (http10 && ContainsIgnoreCase(value, "keep-alive"u8))
                {
                    close = false;
                }
            }
        }

        head = new ResponseHead(end + 4, status, chunked ? -1 : contentLength, chunked, close);
        return ParseStatus.Done;
    }

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(haystack.Slice(i, needle.Length), needle))
            {
                return true;
            }
        }

        return false;
    }
}
