using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace Proxy.Routing;

/// <summary>
/// Compiled query parameter condition. Walks the raw query ("a=1&amp;b=%2F") once, percent-decoding each name into a
/// stack buffer to compare it; the first parameter with the configured name decides, as in Envoy. Allocates nothing:
/// names and values up to <see cref="StackDecodeLimit"/> bytes decode on the stack, longer ones into a pooled array.
/// </summary>
internal readonly struct QueryParameterMatcher
{
    /// <summary>Parameters up to this many bytes are decoded on the stack.</summary>
    public const int StackDecodeLimit = 512;

    private readonly byte[] _name;
    private readonly QueryMatchKind _kind;
    private readonly byte[]? _value;
    private readonly Regex? _regex;

    /// <summary>Creates a matcher; <paramref name="regex"/> is already anchored and non-backtracking.</summary>
    public QueryParameterMatcher(string name, QueryMatchKind kind, string? value, Regex? regex)
    {
        _name = Encoding.UTF8.GetBytes(name);
        _kind = kind;
        _value = value is null ? null : Encoding.UTF8.GetBytes(value);
        _regex = regex;
    }

    /// <summary>Tests the raw query string (after '?', without the fragment).</summary>
    public bool Matches(ReadOnlySpan<byte> query)
    {
        while (!query.IsEmpty)
        {
            int amp = query.IndexOf((byte)'&');
            ReadOnlySpan<byte> parameter = amp < 0 ? query : query.Slice(0, amp);
            query = amp < 0 ? default : query.Slice(amp + 1);
            int equals = parameter.IndexOf((byte)'=');
            ReadOnlySpan<byte> rawName = equals < 0 ? parameter : parameter.Slice(0, equals);
            if (!NameEquals(rawName))
            {
                continue;
            }

            ReadOnlySpan<byte> rawValue = equals < 0 ? default : parameter.Slice(equals + 1);
            return _kind == QueryMatchKind.Present || ValueMatches(rawValue);
        }

        return false;
    }

    private bool NameEquals(ReadOnlySpan<byte> rawName)
    {
        // Decoding only shortens, so a raw name shorter than the configured one cannot equal it.
        if (rawName.Length < _name.Length)
        {
            return false;
        }

        if (rawName.IndexOf((byte)'%') < 0)
        {
            return rawName.SequenceEqual(_name);
        }

        if (rawName.Length <= StackDecodeLimit)
        {
            Span<byte> decoded = stackalloc byte[StackDecodeLimit];
            return decoded.Slice(0, PercentDecoding.Decode(rawName, decoded)).SequenceEqual(_name);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(rawName.Length);
        try
        {
            return rented.AsSpan(0, PercentDecoding.Decode(rawName, rented)).SequenceEqual(_name);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private bool ValueMatches(ReadOnlySpan<byte> rawValue)
    {
        if (rawValue.Length <= StackDecodeLimit)
        {
            Span<byte> decoded = stackalloc byte[StackDecodeLimit];
            return Test(decoded.Slice(0, PercentDecoding.Decode(rawValue, decoded)));
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(rawValue.Length);
        try
        {
            return Test(rented.AsSpan(0, PercentDecoding.Decode(rawValue, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private bool Test(ReadOnlySpan<byte> value) => _kind switch
    {
        QueryMatchKind.Exact => value.SequenceEqual(_value),
        QueryMatchKind.Prefix => value.StartsWith(_value),
        _ => Utf8RegexMatch.IsMatch(_regex!, value),
    };
}
