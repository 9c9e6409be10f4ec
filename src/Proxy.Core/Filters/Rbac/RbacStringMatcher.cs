using System.Text;
using System.Text.RegularExpressions;
using Proxy.Routing;

namespace Proxy.Filters.Rbac;

/// <summary>
/// Envoy's <c>StringMatcher</c> over a UTF-8 value: exact, prefix, suffix and contains compare bytes (ASCII case
/// folded with <c>ignore_case</c>, as Envoy folds only ASCII); a regex must match the whole value and runs on the
/// linear-time engine over the value decoded on the stack (<see cref="Utf8RegexMatch"/>). Nothing allocates per match.
/// </summary>
public sealed class RbacStringMatcher
{
    private readonly RbacStringMatchKind _kind;
    private readonly byte[] _value;
    private readonly bool _ignoreCase;
    private readonly Regex? _regex;

    private RbacStringMatcher(RbacStringMatchKind kind, byte[] value, bool ignoreCase, Regex? regex)
    {
        _kind = kind;
        _value = value;
        _ignoreCase = ignoreCase;
        _regex = regex;
    }

    /// <summary>A matcher of <paramref name="kind"/>; for <see cref="RbacStringMatchKind.Regex"/>, <paramref name="value"/> is the pattern.</summary>
    /// <exception cref="ArgumentException">The pattern is not a regular expression the linear-time engine runs.</exception>
    public static RbacStringMatcher Create(RbacStringMatchKind kind, string value, bool ignoreCase = false)
    {
        if (kind == RbacStringMatchKind.Regex)
        {
            var options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
            return new RbacStringMatcher(kind, [], false, new Regex($"\\A(?:{value})\\z", options));
        }

        return new RbacStringMatcher(kind, Encoding.UTF8.GetBytes(value), ignoreCase, null);
    }

    public bool Matches(ReadOnlySpan<byte> value)
    {
        if (_regex is not null)
        {
            return Utf8RegexMatch.IsMatch(_regex, value);
        }

        ReadOnlySpan<byte> expected = _value;
        return _kind switch
        {
            RbacStringMatchKind.Exact => value.Length == expected.Length && Same(value, expected),
            RbacStringMatchKind.Prefix => value.Length >= expected.Length && Same(value[..expected.Length], expected),
            RbacStringMatchKind.Suffix => value.Length >= expected.Length && Same(value[^expected.Length..], expected),
            _ => Contains(value, expected),
        };
    }

    private bool Same(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
        _ignoreCase ? System.Text.Ascii.EqualsIgnoreCase(a, b) : a.SequenceEqual(b);

    private bool Contains(ReadOnlySpan<byte> value, ReadOnlySpan<byte> expected)
    {
        if (!_ignoreCase)
        {
            return value.IndexOf(expected) >= 0;
        }

        for (var i = 0; i + expected.Length <= value.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(value.Slice(i, expected.Length), expected))
            {
                return true;
            }
        }

        return false;
    }
}
