using System.Text;
using System.Text.RegularExpressions;

namespace Proxy.Routing;

/// <summary>
/// Compiled header condition. Exact, prefix, present and absent matchers compare bytes and never allocate. Regex
/// matchers run a <see cref="RegexOptions.NonBacktracking"/> regex over the value decoded as UTF-8 on the stack
/// (see <see cref="Utf8RegexMatch"/>): linear time in the value length (no ReDoS from hostile headers), safe under
/// native AOT (no emitted code), and no per-request allocation. An inverted matcher negates the whole outcome.
/// </summary>
internal readonly struct HeaderMatcher
{
    /// <summary>Values up to this many bytes are decoded on the stack for regex matching.</summary>
    public const int StackDecodeLimit = Utf8RegexMatch.StackDecodeLimit;

    private readonly byte[] _lowerName;
    private readonly HeaderMatchKind _kind;
    private readonly byte[]? _value;
    private readonly Regex? _regex;
    private readonly bool _invert;

    private HeaderMatcher(byte[] lowerName, HeaderMatchKind kind, byte[]? value, Regex? regex, bool invert = false)
    {
        _lowerName = lowerName;
        _kind = kind;
        _value = value;
        _regex = regex;
        _invert = invert;
    }

    /// <summary>Header present with exactly these value bytes (UTF-8 of <paramref name="value"/>).</summary>
    public static HeaderMatcher Exact(string name, string value) =>
        new(LowerName(name), HeaderMatchKind.Exact, Encoding.UTF8.GetBytes(value), null);

    /// <summary>Header present with a value starting with these bytes (UTF-8 of <paramref name="prefix"/>).</summary>
    public static HeaderMatcher Prefix(string name, string prefix) =>
        new(LowerName(name), HeaderMatchKind.Prefix, Encoding.UTF8.GetBytes(prefix), null);

    /// <summary>Header present.</summary>
    public static HeaderMatcher Present(string name) => new(LowerName(name), HeaderMatchKind.Present, null, null);

    /// <summary>Header absent.</summary>
    public static HeaderMatcher Absent(string name) => new(LowerName(name), HeaderMatchKind.Absent, null, null);

    /// <summary>Header present and its whole value matches <paramref name="regex"/> (already anchored by the compiler).</summary>
    public static HeaderMatcher Regex(string name, Regex regex) => new(LowerName(name), HeaderMatchKind.Regex, null, regex);

    /// <summary>This matcher with its outcome negated (Envoy's <c>invert_match</c>).</summary>
    public HeaderMatcher Inverted() => new(_lowerName, _kind, _value, _regex, !_invert);

    /// <summary>Tests the request's headers.</summary>
    public bool Matches<TRequest>(scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        bool found = request.TryGetHeader(_lowerName, out ReadOnlySpan<byte> value);
        bool matched = _kind switch
        {
            HeaderMatchKind.Absent => !found,
            HeaderMatchKind.Present => found,
            _ when !found => false,
            HeaderMatchKind.Exact => value.SequenceEqual(_value),
            HeaderMatchKind.Prefix => value.StartsWith(_value),
            _ => Utf8RegexMatch.IsMatch(_regex!, value),
        };
        return matched != _invert;
    }

    private static byte[] LowerName(string name) => Encoding.ASCII.GetBytes(name.ToLowerInvariant());
}
