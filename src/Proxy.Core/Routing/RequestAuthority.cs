namespace Proxy.Routing;

/// <summary>Splits a request's authority (Host or :authority) into the host and the port the domains are matched on.</summary>
internal static class RequestAuthority
{
    /// <summary>
    /// Returns the port of <paramref name="authority"/> (RFC 3986 section 3.2.3), or -1 when it has none or it is not
    /// a number from 1 to 65535; <paramref name="host"/> is the rest as <see cref="HostMatcher.Normalize"/> gives it
    /// (no port, one trailing dot removed, IPv6 literals with their brackets).
    /// </summary>
    public static int Split(ReadOnlySpan<byte> authority, out ReadOnlySpan<byte> host)
    {
        host = HostMatcher.Normalize(authority);
        int colon = authority.LastIndexOf((byte)':');
        if (colon < 0 || authority.Slice(colon).IndexOf((byte)']') >= 0 || (authority[0] == (byte)'[' && authority.IndexOf((byte)']') > colon))
        {
            return -1;
        }

        ReadOnlySpan<byte> digits = authority.Slice(colon + 1);
        if (digits.IsEmpty || digits.Length > 5)
        {
            return -1;
        }

        int port = 0;
        foreach (byte b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return -1;
            }

            port = (port * 10) + (b - '0');
        }

        return port is >= 1 and <= 65535 ? port : -1;
    }
}
