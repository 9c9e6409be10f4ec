using System.Text;

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
    /// judged as if its path were unknown, which no allow rule with paths accepts.
    /// Steps, in the order RFC 3986 6.2.2 gives them: escapes of unreserved characters are decoded (6.2.2.2; any
    /// other escape is kept, hex in upper case); runs of '/' are merged; dot segments are removed (5.2.4).
    /// </summary>
    public static string? Normalize(ReadOnlySpan<byte> target)
    {
        int end = target.IndexOfAny((byte)'?', (byte)'#');
        ReadOnlySpan<byte> path = end < 0 ? target : target[..end];
        if (path.IsEmpty || path[0] != (byte)'/')
        {
            return null;
        }

        var decoded = new StringBuilder(path.Length);
        for (int i = 0; i < path.Length; i++)
        {
            byte b = path[i];
            if (b != (byte)'%')
            {
                decoded.Append((char)b);
                continue;
            }

            if (i + 2 >= path.Length || !IsHex(path[i + 1]) || !IsHex(path[i + 2]))
            {
                return null; // a bare '%' is not a valid URI (RFC 3986 2.1)
            }

            int value = (HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]);
            if (IsUnreserved(value))
            {
                decoded.Append((char)value);
            }
            else
            {
                decoded.Append('%').Append(char.ToUpperInvariant((char)path[i + 1])).Append(char.ToUpperInvariant((char)path[i + 2]));
            }

            i += 2;
        }

        return RemoveDotSegments(MergeSlashes(decoded.ToString()));
    }

    private static string MergeSlashes(string path)
    {
        if (!path.Contains("//", StringComparison.Ordinal))
        {
            return path;
        }

        var merged = new StringBuilder(path.Length);
        foreach (char c in path)
        {
            if (c != '/' || merged.Length == 0 || merged[^1] != '/')
            {
                merged.Append(c);
            }
        }

        return merged.ToString();
    }

    /// <summary>RFC 3986 5.2.4 for an absolute path: "." segments vanish, ".." removes the segment before it (never above the root).</summary>
    private static string RemoveDotSegments(string path)
    {
        var segments = path.Split('/'); // path starts with '/': segments[0] is empty
        var kept = new List<string>(segments.Length);
        for (int i = 1; i < segments.Length; i++)
        {
            string segment = segments[i];
            bool last = i == segments.Length - 1;
            if (segment == ".")
            {
                if (last) kept.Add(""); // "/a/." is "/a/"
                continue;
            }

            if (segment == "..")
            {
                if (kept.Count > 0) kept.RemoveAt(kept.Count - 1);
                if (last) kept.Add(""); // "/a/b/.." is "/a/"
                continue;
            }

            kept.Add(segment);
        }

        return "/" + string.Join('/', kept);
    }

    private static bool IsUnreserved(int c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '.' or '_' or '~';

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
