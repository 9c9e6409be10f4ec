using System.Buffers;
using System.Runtime.Intrinsics;

namespace Proxy.Http.Http1;

/// <summary>
/// Byte classes of the HTTP grammar as vectorised <see cref="SearchValues{T}"/>, so validating a
/// name or value is one IndexOfAnyExcept call instead of a byte loop.
/// </summary>
internal static class HttpCharacters
{
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    // (RFC 9110 5.6.2)
    internal static readonly SearchValues<byte> Token = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // field-vchar = VCHAR / obs-text, plus SP and HTAB inside a value (RFC 9110 5.5). Everything
    // else (NUL, CR, LF and the other controls, DEL) is rejected: those are the smuggling vectors.
    internal static readonly SearchValues<byte> FieldValue = SearchValues.Create(BuildRange(0x20, 0x7E, extra: 0x09, obsText: true));

    /// <summary>
    /// True when every byte of <paramref name="value"/> is in <see cref="FieldValue"/>. The same test as
    /// <c>!value.ContainsAnyExcept(FieldValue)</c>, written for the class's shape: the bytes refused are exactly the
    /// controls below 0x20 other than HTAB, and DEL. Two vector compares per 16 bytes, where the general searcher
    /// (a set that includes obs-text) spent more per field than the rest of the field's validation together.
    /// </summary>
    internal static bool IsFieldValue(ReadOnlySpan<byte> value)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated && value.Length >= Vector128<byte>.Count)
        {
            Vector128<byte> space = Vector128.Create((byte)0x20);
            Vector128<byte> tab = Vector128.Create((byte)0x09);
            Vector128<byte> del = Vector128.Create((byte)0x7F);
            ref byte start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(value);
            int last = value.Length - Vector128<byte>.Count;
            while (true)
            {
                Vector128<byte> v = Vector128.LoadUnsafe(ref start, (nuint)Math.Min(i, last));
                Vector128<byte> bad = (Vector128.LessThan(v, space) & ~Vector128.Equals(v, tab)) | Vector128.Equals(v, del);
                if (bad != Vector128<byte>.Zero)
                {
                    return false;
                }

                if (i >= last)
                {
                    return true;
                }

                i += Vector128<byte>.Count;
            }
        }

        for (; i < value.Length; i++)
        {
            byte b = value[i];
            if ((b < 0x20 && b != 0x09) || b == 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    // A request-target is ASCII visible characters only (RFC 3986 via RFC 9112 3.2); we check the
    // byte class here and the structure per form.
    internal static readonly SearchValues<byte> TargetChar = SearchValues.Create(BuildRange(0x21, 0x7E, extra: 0x21, obsText: false));

    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (RFC 9112 4); same class as a field value.
    internal static SearchValues<byte> ReasonPhrase => FieldValue;

    // reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 3.2.2); '%' is checked to start an escape.
    internal static readonly SearchValues<byte> RegNameChar = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;="u8);

    // The inside of an IP-literal: IPv6address, with an embedded IPv4 address's dots (RFC 3986 3.2.2).
    internal static readonly SearchValues<byte> IpLiteralChar = SearchValues.Create("0123456789ABCDEFabcdef:."u8);

    /// <summary>True when <paramref name="host"/> is a reg-name: allowed characters, and every '%' starts "%" HEXDIG HEXDIG.</summary>
    internal static bool IsRegName(ReadOnlySpan<byte> host)
    {
        if (host.ContainsAnyExcept(RegNameChar)) return false;
        for (int i = host.IndexOf((byte)'%'); i >= 0; i = host.IndexOf((byte)'%'))
        {
            if (i + 2 >= host.Length || !char.IsAsciiHexDigit((char)host[i + 1]) || !char.IsAsciiHexDigit((char)host[i + 2])) return false;
            host = host[(i + 3)..];
        }

        return true;
    }

    // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 5.6.4)
    internal static bool IsQuotedText(byte b) => b == 0x09 || b == 0x20 || b == 0x21 || (b >= 0x23 && b <= 0x5B) || (b >= 0x5D && b != 0x7F);

    // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
    internal static bool IsQuotedPairChar(byte b) => b == 0x09 || (b >= 0x20 && b != 0x7F);

    internal static bool IsWhitespace(byte b) => b == (byte)' ' || b == (byte)'\t';

    internal static bool IsToken(ReadOnlySpan<byte> span) => !span.IsEmpty && !span.ContainsAnyExcept(Token);

    internal static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> span)
    {
        int start = 0;
        while (start < span.Length && IsWhitespace(span[start])) start++;
        int end = span.Length;
        while (end > start && IsWhitespace(span[end - 1])) end--;
        return span[start..end];
    }

    private static byte[] BuildRange(byte first, byte last, byte extra, bool obsText)
    {
        var bytes = new List<byte>(256) { extra };
        for (int b = first; b <= last; b++) bytes.Add((byte)b);
        if (obsText)
        {
            for (int b = 0x80; b <= 0xFF; b++) bytes.Add((byte)b);
        }

        return bytes.ToArray();
    }
}
