namespace Proxy.Inbound;

/// <summary>
/// The path an authorization rule is matched against: the request target's path, normalized the way the app behind
/// the proxy will read it, so that <c>/public/../admin</c>, <c>//admin</c> or <c>/%61dmin</c> cannot slip past a rule
/// that denies <c>/admin</c> (Envoy's <c>normalize_path</c> and <c>merge_slashes</c>, on by default in Istio).
/// The request is forwarded unchanged; only the decision uses this form.
/// </summary>
public static class AuthorizationPath
{
    /// <summary>
    /// The normalized path of an origin-form target (query and fragment dropped), or null when the target has no
    /// path to judge (<c>*</c>, an authority, anything not starting with '/') or an invalid escape: such a request is
    /// judged as if its path were unknown, which no allow rule with paths accepts. Each byte of the result is one
    /// character (Latin-1), as <see cref="TryNormalize"/> writes it.
    /// </summary>
    public static string? Normalize(ReadOnlySpan<byte> target)
    {
        var buffer = new byte[target.Length + 1];
        return TryNormalize(target, buffer, out int length) ? System.Text.Encoding.Latin1.GetString(buffer, 0, length) : null;
    }

    /// <summary>
    /// Writes the normalized path of <paramref name="target"/> into <paramref name="destination"/> (at least one byte
    /// longer than the target) without allocating; false when there is no path to judge (see <see cref="Normalize"/>).
    /// Steps, in the order RFC 3986 6.2.2 gives them: escapes of unreserved characters are decoded (6.2.2.2; any
    /// other escape is kept, hex in upper case); runs of '/' are merged; dot segments are removed (5.2.4).
    /// </summary>
    public static bool TryNormalize(ReadOnlySpan<byte> target, Span<byte> destination, out int length)
    {
        length = 0;
        int end = target.IndexOfAny((byte)'?', (byte)'#');
        ReadOnlySpan<byte> path = end < 0 ? target : target[..end];
        if (path.IsEmpty || path[0] != (byte)'/' || destination.Length <= path.Length)
        {
            return false;
        }

        // 1. Decode into the destination: the decoded form is never longer than the path.
        int decoded = 0;
        for (int i = 0; i < path.Length; i++)
        {
            byte b = path[i];
            if (b != (byte)'%')
            {
                destination[decoded++] = b;
                continue;
            }

            if (i + 2 >= path.Length || !IsHex(path[i + 1]) || !IsHex(path[i + 2]))
            {
                return false; // a bare '%' is not a valid URI (RFC 3986 2.1)
            }

            int value = (HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]);
            if (IsUnreserved(value))
            {
                destination[decoded++] = (byte)value;
            }
            else
            {
                destination[decoded++] = (byte)'%';
                destination[decoded++] = UpperHex(path[i + 1]);
                destination[decoded++] = UpperHex(path[i + 2]);
            }

            i += 2;
        }

        // 2. Merge slashes and remove dot segments in place, segment by segment: the output is written as "/segment"
        // pieces behind the read position, which it never passes. Empty segments (from "//") vanish, except a last one,
        // which is the trailing slash ("/a/" stays "/a/"); "." vanishes and ".." takes the segment before it, and when
        // either is last the path keeps its trailing slash ("/a/b/.." is "/a/").
        int written = 0;
        int read = 1; // past the leading '/'
        while (read <= decoded)
        {
            int next = destination[read..decoded].IndexOf((byte)'/');
            int segmentEnd = next < 0 ? decoded : read + next;
            bool last = next < 0;
            int segmentLength = segmentEnd - read;
            bool dot = segmentLength == 1 && destination[read] == (byte)'.';
            bool dotDot = segmentLength == 2 && destination[read] == (byte)'.' && destination[read + 1] == (byte)'.';
            if (dotDot && written > 0)
            {
                written = destination[..written].LastIndexOf((byte)'/');
            }

            if (dot || dotDot || segmentLength == 0)
            {
                if (last)
                {
                    destination[written++] = (byte)'/';
                }
            }
            else
            {
                destination[written++] = (byte)'/';
                destination[read..segmentEnd].CopyTo(destination[written..]);
                written += segmentLength;
            }

            read = segmentEnd + 1;
        }

        length = written == 0 ? 1 : written;
        destination[0] = (byte)'/'; // an empty result is the root
        return true;
    }

    private static byte UpperHex(byte b) => b is >= (byte)'a' and <= (byte)'f' ? (byte)(b - 32) : b;

    private static bool IsUnreserved(int c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '.' or '_' or '~';

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
