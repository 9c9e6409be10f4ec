using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets.Reference;

/// <summary>The message body length (RFC 9112 6.3) and the chunked coding (7.1).</summary>
public static partial class SimpleHttp1Reader
{
    private static ReferenceVerdict Frame(ReadOnlySpan<byte> input, List<(string Name, byte[] Value)> fields, int headEnd, int minor, bool isRequest, bool noBody, bool tunnel, Http1Limits limits)
    {
        var codings = new List<string>();
        bool hasTransferEncoding = false;
        long contentLength = -1;
        foreach ((string name, byte[] value) in fields)
        {
            if (name == "transfer-encoding")
            {
                hasTransferEncoding = true;
                codings.AddRange(ListElements(value));
            }
            else if (name == "content-length")
            {
                // RFC 9110 8.6: Content-Length = 1*DIGIT; identical repeated values may be folded into one.
                foreach (string element in System.Text.Encoding.Latin1.GetString(value).Split(','))
                {
                    string digits = element.Trim(' ', '\t');
                    if (digits.Length == 0 || !digits.All(char.IsAsciiDigit) || !long.TryParse(digits, System.Globalization.NumberStyles.None, null, out long n))
                    {
                        return ReferenceVerdict.Reject("invalid Content-Length");
                    }

                    if (contentLength >= 0 && contentLength != n)
                    {
                        return ReferenceVerdict.Reject("differing Content-Length values");
                    }

                    contentLength = n;
                }
            }
        }

        if (hasTransferEncoding)
        {
            // 6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
            if (minor == 0)
            {
                return ReferenceVerdict.Reject("Transfer-Encoding in HTTP/1.0");
            }

            // 6.3 rule 3: both length fields "ought to be handled as an error"; the proxy rejects.
            if (contentLength >= 0)
            {
                return ReferenceVerdict.Reject("Transfer-Encoding with Content-Length");
            }

            // 7: chunked is never applied twice, and when present it is the final coding.
            int chunked = codings.Count(c => c.Equals("chunked", StringComparison.OrdinalIgnoreCase));
            bool lastChunked = codings.Count > 0 && codings[^1].Equals("chunked", StringComparison.OrdinalIgnoreCase);
            if (codings.Count == 0 || chunked > 1 || (chunked == 1 && !lastChunked))
            {
                return ReferenceVerdict.Reject("Transfer-Encoding list");
            }

            // 6.1: a coding the proxy does not decode: 501 for a request; a response with chunked after it is
            // refused too (the proxy cannot re-frame it); a response without chunked runs until close (6.3 rule 4).
            if (codings.Count > 1 || !lastChunked)
            {
                if (isRequest || lastChunked)
                {
                    return ReferenceVerdict.Reject("transfer coding other than chunked");
                }
            }
        }

        int headLength = headEnd;
        if (noBody)
        {
            return new ReferenceVerdict(ReferenceOutcome.Accept, headLength, Http1BodyFraming.None, contentLength, "at head");
        }

        if (tunnel)
        {
            return new ReferenceVerdict(ReferenceOutcome.Accept, headLength, Http1BodyFraming.Tunnel, contentLength, "tunnel");
        }

        if (hasTransferEncoding)
        {
            bool chunked = codings[^1].Equals("chunked", StringComparison.OrdinalIgnoreCase);
            return chunked
                ? new ReferenceVerdict(ReferenceOutcome.Accept, headLength, Http1BodyFraming.Chunked, -1, ReadChunked(input[headLength..], limits))
                : new ReferenceVerdict(ReferenceOutcome.Accept, headLength, Http1BodyFraming.CloseDelimited, -1, "at close");
        }

        if (contentLength >= 0)
        {
            string end = input.Length - headLength >= contentLength ? "at " + (headLength + contentLength) : "incomplete";
            return new ReferenceVerdict(ReferenceOutcome.Accept, headLength, Http1BodyFraming.ContentLength, contentLength, end);
        }

        // 6.3 rule 6: a request without either field has no body; rule 7: a response runs until close.
        return isRequest
            ? new ReferenceVerdict(ReferenceOutcome.Accept, headLength, Http1BodyFraming.None, -1, "at head")
            : new ReferenceVerdict(ReferenceOutcome.Accept, headLength, Http1BodyFraming.CloseDelimited, -1, "at close");
    }

    /// <summary>RFC 9110 5.6.1: a list's elements, trimmed, empty ones skipped.</summary>
    private static IEnumerable<string> ListElements(byte[] value) =>
        System.Text.Encoding.Latin1.GetString(value).Split(',').Select(e => e.Trim(' ', '\t')).Where(e => e.Length > 0);

    /// <summary>
    /// 7.1: chunked-body = *chunk last-chunk trailer-section CRLF. Returns "at N" (bytes of body consumed),
    /// "incomplete", or "invalid".
    /// </summary>
    private static string ReadChunked(ReadOnlySpan<byte> body, Http1Limits limits)
    {
        int position = 0;
        while (true)
        {
            // chunk-size [ chunk-ext ] CRLF
            int lf = body[position..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                return body.Length - position > limits.MaxChunkLineLength || BadChunkLinePrefix(body[position..]) ? "invalid" : "incomplete";
            }

            if (lf == 0 || body[position + lf - 1] != (byte)'\r' || lf - 1 > limits.MaxChunkLineLength)
            {
                return "invalid";
            }

            string line = System.Text.Encoding.Latin1.GetString(body.Slice(position, lf - 1));
            long? size = ChunkSize(line);
            if (size is null)
            {
                return "invalid";
            }

            position += lf + 1;
            if (size == 0)
            {
                return ReadTrailers(body, position, limits);
            }

            // chunk-data CRLF
            if (body.Length - position < size.Value + 2)
            {
                return body.Length - position >= size.Value && !"\r\n"u8.StartsWith(body[(int)(position + size.Value)..]) ? "invalid" : "incomplete";
            }

            position += (int)size.Value;
            if (body[position] != (byte)'\r' || body[position + 1] != (byte)'\n')
            {
                return "invalid";
            }

            position += 2;
        }
    }

    /// <summary>A partial chunk-size line already broken (a byte no chunk line may have); the proxy rejects it as it arrives.</summary>
    private static bool BadChunkLinePrefix(ReadOnlySpan<byte> partial)
    {
        for (int i = 0; i < partial.Length; i++)
        {
            if (partial[i] == (byte)'\r' && i < partial.Length - 1)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>chunk-size = 1*HEXDIG; chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).</summary>
    private static long? ChunkSize(string line)
    {
        int i = 0;
        long size = 0;
        while (i < line.Length && Uri.IsHexDigit(line[i]))
        {
            if (size > (long.MaxValue >> 4))
            {
                return null;
            }

            size = (size << 4) | (long)Convert.ToInt32(line[i].ToString(), 16);
            i++;
        }

        if (i == 0)
        {
            return null;
        }

        string ext = line[i..];
        while (ext.Length > 0)
        {
            ext = ext.TrimStart(' ', '\t');
            if (ext.Length == 0)
            {
                break; // trailing BWS after the size or a value
            }

            if (ext[0] != ';')
            {
                return null;
            }

            ext = ext[1..].TrimStart(' ', '\t');
            int nameLength = TokenLength(ext);
            if (nameLength == 0)
            {
                return null;
            }

            ext = ext[nameLength..];
            string afterName = ext.TrimStart(' ', '\t');
            if (afterName.StartsWith('='))
            {
                ext = afterName[1..].TrimStart(' ', '\t');
                if (ext.StartsWith('"'))
                {
                    int end = QuotedStringLength(ext);
                    if (end < 0)
                    {
                        return null;
                    }

                    ext = ext[end..];
                }
                else
                {
                    int valueLength = TokenLength(ext);
                    if (valueLength == 0)
                    {
                        return null;
                    }

                    ext = ext[valueLength..];
                }
            }
        }

        return size;
    }

    private static int TokenLength(string s)
    {
        int n = 0;
        while (n < s.Length && TokenChars.Contains(s[n]))
        {
            n++;
        }

        return n;
    }

    /// <summary>RFC 9110 5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; the length including both quotes, or -1.</summary>
    private static int QuotedStringLength(string s)
    {
        for (int i = 1; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '"')
            {
                return i + 1;
            }

            if (c == '\\')
            {
                if (++i >= s.Length || !(s[i] == '\t' || (s[i] >= 0x20 && s[i] != 0x7F)))
                {
                    return -1;
                }
            }
            else if (!(c is '\t' or ' ' or '!' || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) || c >= 0x80))
            {
                return -1;
            }
        }

        return -1;
    }

    /// <summary>7.1.2: trailer-section = *( field-line CRLF ), then the final CRLF.</summary>
    private static string ReadTrailers(ReadOnlySpan<byte> body, int position, Http1Limits limits)
    {
        int start = position;
        int count = 0;
        while (true)
        {
            int lf = body[position..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                return body.Length - start > limits.MaxTrailerBytes + 2 ? "invalid" : "incomplete";
            }

            if (lf == 0 || body[position + lf - 1] != (byte)'\r')
            {
                return "invalid";
            }

            ReadOnlySpan<byte> line = body.Slice(position, lf - 1);
            position += lf + 1;
            if (position - start > limits.MaxTrailerBytes + 2)
            {
                return "invalid";
            }

            if (line.IsEmpty)
            {
                return "at " + position;
            }

            if (line.Contains((byte)'\r') || ReadField(line, out _, out _) is not null || ++count > limits.MaxHeaderCount)
            {
                return "invalid";
            }
        }
    }
}
