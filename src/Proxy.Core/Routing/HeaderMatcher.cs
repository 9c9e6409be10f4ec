using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace Proxy.Routing;

/// <summary>
/// Compiled header condition. Exact and present matchers compare bytes and never allocate. Regex
/// matchers decode the value as UTF-8 into a stack buffer (or a pooled array above
/// <see cref="StackDecodeLimit"/> bytes) and run a <see cref="RegexOptions.NonBacktracking"/> regex over
/// the chars: linear time in the value length (no ReDoS from hostile headers), safe under native AOT
/// (no emitted code), and no per-request allocation in steady state; the cost is the decode pass.
/// </summary>
internal readonly struct HeaderMatcher
{
    /// <summary>Values up to this many bytes are decoded on the stack for regex matching.</summary>
    public const int StackDecodeLimit = 512;

    private readonly byte[] _lowerName;
    private readonly HeaderMatchKind _kind;
    private readonly byte[]? _value;
    private readonly Regex? _regex;

    private HeaderMatcher(byte[] lowerName, HeaderMatchKind kind, byte[]? value, Regex? regex)
    {
        _lowerName = lowerName;
        _kind = kind;
        _value = value;
        _regex = regex;
    }

    /// <summary>Header present with exactly these value bytes (UTF-8 of <paramref name="value"/>).</summary>
    public static HeaderMatcher Exact(string name, string value) =>
        new(LowerName(name), HeaderMatchKind.Exact, Encoding.UTF8.GetBytes(value), null);

    /// <summary>Header present.</summary>
    public static HeaderMatcher Present(string name) => new(LowerName(name), HeaderMatchKind.Present, null, null);

    /// <summary>Header present and its whole value matches <paramref name="regex"/> (already anchored by the compiler).</summary>
    public static HeaderMatcher Regex(string name, Regex regex) => new(LowerName(name), HeaderMatchKind.Regex, null, regex);

    /// <summary>Tests the request's headers.</summary>
    public bool Matches<TRequest>(scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        if (!request.TryGetHeader(_lowerName, out ReadOnlySpan<byte> value))
        {
            return false;
        }

        return _kind switch
        {
            HeaderMatchKind.Exact => value.SequenceEqual(_value),
            HeaderMatchKind.Present => true,
            _ => RegexMatches(value),
        };
    }

    private bool RegexMatches(ReadOnlySpan<byte> value)
    {
        // UTF-8 never yields more chars than bytes, so value.Length chars always suffice.
        if (value.Length <= StackDecodeLimit)
        {
            Span<char> chars = stackalloc char[StackDecodeLimit];
            int count = Encoding.UTF8.GetChars(value, chars);
            return _regex!.IsMatch(chars.Slice(0, count));
        }

        return RegexMatchesPooled(value);
    }

    private bool RegexMatchesPooled(ReadOnlySpan<byte> value)
    {
        char[] rented = ArrayPool<char>.Shared.Rent(value.Length);
        try
        {
            int count = Encoding.UTF8.GetChars(value, rented);
            return _regex!.IsMatch(rented.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private static byte[] LowerName(string name) => Encoding.ASCII.GetBytes(name.ToLowerInvariant());
}
