using System.Text;

namespace Proxy.Http.Http1;

/// <summary>
/// Parses a block of field lines (a header or trailer section) that the caller has already
/// located and copied into one contiguous buffer, and validated to end every line in CRLF.
/// Shared by the request head, the response head and the chunked trailer section.
/// </summary>
internal static class Http1FieldParser
{
    /// <summary>
    /// Parses the lines in <c>buffer[start..end]</c>, each ending in CRLF, appending an entry per
    /// line to <paramref name="fields"/> (grown by doubling, never past <paramref name="maxCount"/>).
    /// </summary>
    internal static Http1ParseError Parse(ReadOnlySpan<byte> buffer, int start, int end, ref Http1HeaderField[] fields, ref int count, int maxCount)
    {
        int pos = start;
        while (pos < end)
        {
            // The scanner guaranteed an LF preceded by CR ends every line before 'end'.
            int lf = buffer[pos..end].IndexOf((byte)'\n') + pos;
            int lineEnd = lf - 1;
            ReadOnlySpan<byte> line = buffer[pos..lineEnd];

            // RFC 9112 5.2: obs-fold (a line starting with SP/HTAB) must be rejected by a proxy
            // unless it unfolds; we reject. The same test covers whitespace right after the start line (2.2).
            if (line.IsEmpty || HttpCharacters.IsWhitespace(line[0]))
            {
                return line.IsEmpty ? Http1ParseError.InvalidHeaderLine : Http1ParseError.ObsoleteLineFolding;
            }

            int colon = line.IndexOf((byte)':');
            if (colon < 0) return Http1ParseError.InvalidHeaderLine;
            if (colon == 0) return Http1ParseError.InvalidHeaderName;

            ReadOnlySpan<byte> name = line[..colon];

            // RFC 9112 5.1: "No whitespace is allowed between the field name and colon ... a server
            // MUST reject ... with 400; a proxy MUST remove any such whitespace" - we reject both ways.
            if (HttpCharacters.IsWhitespace(name[^1])) return Http1ParseError.WhitespaceBeforeColon;
            if (name.ContainsAnyExcept(HttpCharacters.Token)) return Http1ParseError.InvalidHeaderName;

            ReadOnlySpan<byte> rawValue = line[(colon + 1)..];
            if (!HttpCharacters.IsFieldValue(rawValue)) return Http1ParseError.InvalidHeaderValue;

            // field-line = field-name ":" OWS field-value OWS
            int valueStart = colon + 1;
            int valueEnd = line.Length;
            while (valueStart < valueEnd && HttpCharacters.IsWhitespace(line[valueStart])) valueStart++;
            while (valueEnd > valueStart && HttpCharacters.IsWhitespace(line[valueEnd - 1])) valueEnd--;

            if (count == maxCount) return Http1ParseError.TooManyHeaders;
            if (count == fields.Length) Array.Resize(ref fields, Math.Min(fields.Length * 2, maxCount));

            KnownHeader kind = KnownHeaders.Classify(name);
            fields[count++] = new Http1HeaderField(
                pos, colon, pos + valueStart, valueEnd - valueStart, lf + 1 - pos, kind, HopByHop.IsAlwaysHopByHop(kind));
            pos = lf + 1;
        }

        return Http1ParseError.None;
    }

    /// <summary>Finds the first field with this name (case-insensitive) in a parsed block.</summary>
    internal static int IndexOf(ReadOnlySpan<byte> buffer, ReadOnlySpan<Http1HeaderField> fields, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < fields.Length; i++)
        {
            ref readonly Http1HeaderField f = ref fields[i];
            if (f.NameLength == name.Length && Ascii.EqualsIgnoreCase(buffer.Slice(f.NameStart, f.NameLength), name)) return i;
        }

        return -1;
    }
}
