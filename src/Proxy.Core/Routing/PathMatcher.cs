using System.Text;
using System.Text.RegularExpressions;

namespace Proxy.Routing;

/// <summary>
/// Compiled path condition over the raw UTF-8 path bytes: any path, exact, plain prefix, segment-aware prefix, or a
/// regex over the whole path. Not percent-decoded, like the request target on the wire. Exact and prefix compare
/// bytes, case-sensitively unless built with ignoreCase (ASCII case folding, Envoy's <c>case_sensitive: false</c>).
/// </summary>
internal readonly struct PathMatcher
{
    private readonly byte[]? _value;
    private readonly Regex? _regex;
    private readonly Kind _kind;
    private readonly bool _ignoreCase;

    private PathMatcher(byte[]? value, Kind kind, bool ignoreCase, Regex? regex = null)
    {
        _value = value;
        _kind = kind;
        _ignoreCase = ignoreCase;
        _regex = regex;
    }

    private enum Kind : byte
    {
        Any,
        Exact,
        Prefix,
        SegmentPrefix,
        Regex,
    }

    /// <summary>Matches every path.</summary>
    public static PathMatcher Any => default;

    /// <summary>Matches exactly <paramref name="path"/>.</summary>
    public static PathMatcher Exact(string path, bool ignoreCase = false) => new(Encoding.UTF8.GetBytes(path), Kind.Exact, ignoreCase);

    /// <summary>
    /// Matches paths starting with <paramref name="prefix"/>. A prefix ending in '/' is a plain byte prefix;
    /// otherwise the byte after it must be the end of the path or '/', so "/api" does not match "/apix".
    /// </summary>
    public static PathMatcher Prefix(string prefix, bool ignoreCase = false) =>
        new(Encoding.UTF8.GetBytes(prefix), prefix.EndsWith('/') ? Kind.Prefix : Kind.SegmentPrefix, ignoreCase);

    /// <summary>Matches paths that <paramref name="regex"/> (already anchored at both ends, non-backtracking) matches.</summary>
    public static PathMatcher Pattern(Regex regex) => new(null, Kind.Regex, ignoreCase: false, regex);

    /// <summary>Tests a request path (query string already removed).</summary>
    public bool Matches(ReadOnlySpan<byte> path)
    {
        byte[]? value = _value;
        switch (_kind)
        {
            case Kind.Exact:
                return _ignoreCase ? path.Length == value!.Length && Ascii.EqualsIgnoreCase(path, value) : path.SequenceEqual(value);
            case Kind.Prefix:
                return StartsWith(path, value!);
            case Kind.SegmentPrefix:
                return StartsWith(path, value!)
                    && ((uint)value!.Length >= (uint)path.Length || path[value.Length] == (byte)'/');
            case Kind.Regex:
                return Utf8RegexMatch.IsMatch(_regex!, path);
            default:
                return true;
        }
    }

    private bool StartsWith(ReadOnlySpan<byte> path, byte[] value) =>
        _ignoreCase
            ? path.Length >= value.Length && Ascii.EqualsIgnoreCase(path.Slice(0, value.Length), value)
            : path.StartsWith(value);
}
