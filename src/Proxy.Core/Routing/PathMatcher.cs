using System.Text;

namespace Proxy.Routing;

/// <summary>
/// Compiled path condition over the raw UTF-8 path bytes: any path, exact, plain prefix, or
/// segment-aware prefix. Case-sensitive and not percent-decoded, like the request target on the wire.
/// </summary>
internal readonly struct PathMatcher
{
    private readonly byte[]? _value;
    private readonly Kind _kind;

    private PathMatcher(byte[] value, Kind kind)
    {
        _value = value;
        _kind = kind;
    }

    private enum Kind : byte
    {
        Any,
        Exact,
        Prefix,
        SegmentPrefix,
    }

    /// <summary>Matches every path.</summary>
    public static PathMatcher Any => default;

    /// <summary>Matches exactly <paramref name="path"/>.</summary>
    public static PathMatcher Exact(string path) => new(Encoding.UTF8.GetBytes(path), Kind.Exact);

    /// <summary>
    /// Matches paths starting with <paramref name="prefix"/>. A prefix ending in '/' is a plain byte prefix;
    /// otherwise the byte after it must be the end of the path or '/', so "/api" does not match "/apix".
    /// </summary>
    public static PathMatcher Prefix(string prefix) =>
        new(Encoding.UTF8.GetBytes(prefix), prefix.EndsWith('/') ? Kind.Prefix : Kind.SegmentPrefix);

    /// <summary>Tests a request path (query string already removed).</summary>
    public bool Matches(ReadOnlySpan<byte> path)
    {
        byte[]? value = _value;
        switch (_kind)
        {
            case Kind.Exact:
                return path.SequenceEqual(value);
            case Kind.Prefix:
                return path.StartsWith(value);
            case Kind.SegmentPrefix:
                return path.StartsWith(value)
                    && ((uint)value!.Length >= (uint)path.Length || path[value.Length] == (byte)'/');
            default:
                return true;
        }
    }
}
