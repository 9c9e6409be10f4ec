using Proxy.Http;
using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets.Reference;

/// <summary>
/// A second, deliberately simple reading of RFC 9112 for the differential fuzz target: one pass over the whole
/// input, written from the RFC's grammar (sections 2-7) and not from the proxy's parser, so that where the two
/// disagree about whether a message is acceptable or how its body is framed, one of them is wrong and the RFC decides.
/// </summary>
/// <remarks>
/// Where the RFC leaves a recipient a choice, this reader takes the proxy's documented choice, named in a comment
/// with the section that allows it: bare LF and obs-fold are rejected (2.2, 5.2), at most four empty lines before
/// a request line are skipped (2.2), both Content-Length and Transfer-Encoding is an error (6.3), a request transfer
/// coding other than chunked is refused (6.1, 501), identical Content-Length values are folded (RFC 9110 8.6), a
/// request-target may hold any VCHAR but '#' (3, "SHOULD respond 400"), and the proxy's size limits apply.
/// Speed does not matter here; clarity does.
/// </remarks>
public static partial class SimpleHttp1Reader
{
    private const int MaxLeadingEmptyLines = 4;
    private const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string Unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    private const string SubDelims = "!$&'()*+,;=";

    /// <summary>Reads the message at the start of <paramref name="input"/>; for a response, <paramref name="requestMethod"/> is what it answers.</summary>
    public static ReferenceVerdict Read(ReadOnlySpan<byte> input, bool isRequest, RequestMethod requestMethod, Http1Limits limits)
    {
        // 2.1: HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]. Cut the input into lines
        // until the empty line that ends the head; every line must end in CRLF (2.2: no bare LF, no bare CR).
        var lines = new List<(int Start, int Length)>();
        int position = 0;
        int leading = 0;
        int headEnd = -1;
        while (headEnd < 0)
        {
            int lf = input[position..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                return NeedMoreOrBareCr(input[position..]);
            }

            int lineLength = lf - 1;
            if (lineLength < 0 || input[position + lineLength] != (byte)'\r')
            {
                return ReferenceVerdict.Reject("bare LF");
            }

            ReadOnlySpan<byte> line = input.Slice(position, lineLength);
            if (line.Contains((byte)'\r'))
            {
                return ReferenceVerdict.Reject("bare CR");
            }

            if (line.IsEmpty && lines.Count == 0)
            {
                // 2.2: a server SHOULD ignore at least one empty line before the request-line; a client none.
                if (!isRequest || ++leading > MaxLeadingEmptyLines)
                {
                    return ReferenceVerdict.Reject("empty line before the start line");
                }
            }
            else if (line.IsEmpty)
            {
                headEnd = position + 2;
            }
            else
            {
                lines.Add((position, lineLength));
            }

            position += lf + 1;
        }

        ReadOnlySpan<byte> startLine = input.Slice(lines[0].Start, lines[0].Length);
        var fields = new List<(string Name, byte[] Value)>();
        int fieldBytes = 0;
        for (int i = 1; i < lines.Count; i++)
        {
            ReadOnlySpan<byte> line = input.Slice(lines[i].Start, lines[i].Length);
            fieldBytes += line.Length + 2;
            string? fieldError = ReadField(line, out string name, out byte[] value);
            if (fieldError is not null)
            {
                return ReferenceVerdict.Reject(fieldError);
            }

            fields.Add((name, value));
        }

        if (fields.Count > limits.MaxHeaderCount || fieldBytes > limits.MaxHeaderBytes)
        {
            return ReferenceVerdict.Reject("limit");
        }

        return isRequest
            ? ReadRequest(input, startLine, fields, headEnd, limits)
            : ReadResponse(input, startLine, fields, headEnd, requestMethod, limits);
    }

    private static ReferenceVerdict NeedMoreOrBareCr(ReadOnlySpan<byte> partial)
    {
        // A CR that is followed by something other than LF is a bare CR already.
        int cr = partial.IndexOf((byte)'\r');
        return cr >= 0 && cr < partial.Length - 1 ? ReferenceVerdict.Reject("bare CR") : ReferenceVerdict.NeedMore;
    }

    /// <summary>5.1: field-line = field-name ":" OWS field-value OWS, with no whitespace before the colon.</summary>
    private static string? ReadField(ReadOnlySpan<byte> line, out string name, out byte[] value)
    {
        name = "";
        value = [];
        if (line[0] is (byte)' ' or (byte)'\t')
        {
            return "obs-fold"; // 5.2: a proxy MUST reject or unfold obs-fold; the proxy rejects
        }

        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return "field line without a name and colon";
        }

        for (int i = 0; i < colon; i++)
        {
            if (!TokenChars.Contains((char)line[i]))
            {
                return "field name is not a token";
            }
        }

        // field-value = *field-content; field-vchar = VCHAR / obs-text; SP and HTAB inside (RFC 9110 5.5).
        ReadOnlySpan<byte> raw = line[(colon + 1)..];
        foreach (byte b in raw)
        {
            if (!(b is (byte)' ' or (byte)'\t' || (b >= 0x21 && b <= 0x7E) || b >= 0x80))
            {
                return "field value has a control byte";
            }
        }

        name = System.Text.Encoding.ASCII.GetString(line[..colon]).ToLowerInvariant();
        value = raw.Trim(" \t"u8).ToArray();
        return null;
    }
}
