using System.Text;

namespace Proxy.Http;

/// <summary>Classifies a field name as a <see cref="KnownHeader"/> (case-insensitive, RFC 9110 5.1).</summary>
public static class KnownHeaders
{
    /// <summary>Returns the known header with this name, or <see cref="KnownHeader.None"/>.</summary>
    public static KnownHeader Classify(ReadOnlySpan<byte> name)
    {
        // x-b3-traceid, x-b3-spanid, x-b3-parentspanid, x-b3-sampled, x-b3-flags: one family.
        if (name.Length > 5 && name[1] == (byte)'-' && name[3] == (byte)'3' && name[4] == (byte)'-'
            && (name[0] | 0x20) == (byte)'x' && (name[2] | 0x20) == (byte)'b')
        {
            return KnownHeader.B3;
        }

        // Dispatch on length so that at most two comparisons run per field.
        switch (name.Length)
        {
            case 2:
                if (Is(name, HeaderNames.TE)) return KnownHeader.TE;
                return Is(name, "b3"u8) ? KnownHeader.B3 : KnownHeader.None;
            case 11: return Is(name, "traceparent"u8) ? KnownHeader.TraceParent : KnownHeader.None;
            case 3: return Is(name, HeaderNames.Via) ? KnownHeader.Via : KnownHeader.None;
            case 4: return Is(name, HeaderNames.Host) ? KnownHeader.Host : KnownHeader.None;
            case 6: return Is(name, HeaderNames.Expect) ? KnownHeader.Expect : KnownHeader.None;
            case 7:
                if (Is(name, HeaderNames.Trailer)) return KnownHeader.Trailer;
                return Is(name, HeaderNames.Upgrade) ? KnownHeader.Upgrade : KnownHeader.None;
            case 10:
                if (Is(name, HeaderNames.Connection)) return KnownHeader.Connection;
                return Is(name, HeaderNames.KeepAlive) ? KnownHeader.KeepAlive : KnownHeader.None;
            case 12: return Is(name, HeaderNames.XRequestId) ? KnownHeader.XRequestId : KnownHeader.None;
            case 14: return Is(name, HeaderNames.ContentLength) ? KnownHeader.ContentLength : KnownHeader.None;
            case 15: return Is(name, HeaderNames.XForwardedFor) ? KnownHeader.XForwardedFor : KnownHeader.None;
            case 16:
                if (Is(name, HeaderNames.ProxyConnection)) return KnownHeader.ProxyConnection;
                return Is(name, HeaderNames.XForwardedHost) ? KnownHeader.XForwardedHost : KnownHeader.None;
            case 17:
                if (Is(name, HeaderNames.TransferEncoding)) return KnownHeader.TransferEncoding;
                return Is(name, HeaderNames.XForwardedProto) ? KnownHeader.XForwardedProto : KnownHeader.None;
            case 18: return Is(name, HeaderNames.ProxyAuthenticate) ? KnownHeader.ProxyAuthenticate : KnownHeader.None;
            case 19: return Is(name, HeaderNames.ProxyAuthorization) ? KnownHeader.ProxyAuthorization : KnownHeader.None;
            default: return KnownHeader.None;
        }
    }

    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lowercase) => Ascii.EqualsIgnoreCase(name, lowercase);
}
