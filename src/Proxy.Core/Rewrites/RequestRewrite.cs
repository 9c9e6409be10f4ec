using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Proxy.Configuration;

namespace Proxy.Rewrites;

/// <summary>
/// A route's rewrite of the request it forwards, compiled at load: the path (the matched prefix replaced, Envoy's
/// <c>prefix_rewrite</c>, or every match of a pattern substituted, <c>regex_rewrite</c>) and the host
/// (<c>host_rewrite_literal</c>, or the chosen endpoint's, <c>auto_host_rewrite</c>). The query is never touched.
/// </summary>
public sealed class RequestRewrite
{
    private readonly int _prefixLength;
    private readonly byte[]? _prefixReplacement;
    private readonly Regex? _pattern;
    private readonly string? _substitution; // .NET syntax, for substitutions with capture groups
    private readonly byte[]? _literalSubstitution; // for those without

    private RequestRewrite(RouteConfig route)
    {
        if (route.PrefixRewrite is { } prefix)
        {
            // What the path match took: the prefix, the whole exact path, or "/" for a route without a path match
            // (every path starts with it, as Envoy's implicit prefix "/").
            _prefixLength = route.Match.PathPrefix?.Length ?? route.Match.PathExact?.Length ?? 1;
            _prefixReplacement = Encoding.UTF8.GetBytes(prefix);
        }

        if (route.RegexRewrite is { } regex)
        {
            _pattern = new Regex(regex.Pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
            var (substitution, usesGroups) = ToDotNetSubstitution(regex.Substitution);
            if (usesGroups)
            {
                _substitution = substitution;
            }
            else
            {
                _literalSubstitution = Encoding.UTF8.GetBytes(regex.Substitution.Replace("\\\\", "\\", StringComparison.Ordinal));
            }
        }

        HostLiteral = route.HostRewrite is { } host ? Encoding.ASCII.GetBytes(host) : null;
        AutoHost = route.AutoHostRewrite;
    }

    /// <summary>The field that keeps the path and query the client sent when the path is rewritten (as Envoy names it).</summary>
    public static ReadOnlySpan<byte> OriginalPathField => "x-envoy-original-path"u8;

    /// <summary>The Host the upstream gets in place of the client's; null to keep it (or for <see cref="AutoHost"/>).</summary>
    public byte[]? HostLiteral { get; }

    /// <summary>The Host becomes the chosen endpoint's authority, try by try.</summary>
    public bool AutoHost { get; }

    /// <summary>True when the path changes.</summary>
    public bool RewritesPath => _prefixReplacement is not null || _pattern is not null;

    /// <summary>True when the host changes.</summary>
    public bool RewritesHost => HostLiteral is not null || AutoHost;

    /// <summary>The route's rewrite, or null when it rewrites nothing.</summary>
    public static RequestRewrite? Compile(RouteConfig route) =>
        route.PrefixRewrite is null && route.RegexRewrite is null && route.HostRewrite is null && !route.AutoHostRewrite ? null : new RequestRewrite(route);

    /// <summary>
    /// Checks a <c>regex_rewrite</c> substitution: <c>\1</c> to <c>\9</c> name capture groups the pattern must have, and
    /// a backslash before anything else must be doubled. Returns a sentence to show, or null when it is fine.
    /// </summary>
    public static string? CheckSubstitution(string substitution, int groupCount)
    {
        for (var i = 0; i < substitution.Length; i++)
        {
            if (substitution[i] != '\\')
            {
                continue;
            }

            if (i + 1 >= substitution.Length || !(char.IsAsciiDigit(substitution[i + 1]) || substitution[i + 1] == '\\'))
            {
                return "a backslash in the substitution must come before a group number (\\1) or another backslash (\\\\)";
            }

            if (char.IsAsciiDigit(substitution[i + 1]) && substitution[i + 1] - '0' > groupCount)
            {
                return $"the substitution names group \\{substitution[i + 1]}, but the pattern has {groupCount} capture group(s)";
            }

            i++;
        }

        return null;
    }

    /// <summary>Writes the rewritten path into <paramref name="buffer"/> (grown when short); returns its length.</summary>
    internal int WritePath(ReadOnlySpan<byte> path, ref byte[] buffer)
    {
        if (_prefixReplacement is { } replacement)
        {
            var rest = path.Length >= _prefixLength ? path[_prefixLength..] : default;
            var length = replacement.Length + rest.Length;
            Ensure(ref buffer, length);
            replacement.CopyTo(buffer, 0);
            rest.CopyTo(buffer.AsSpan(replacement.Length));
            return length;
        }

        return _literalSubstitution is not null ? SubstituteLiteral(path, ref buffer) : SubstituteGroups(path, ref buffer);
    }

    /// <summary>Every match replaced by fixed bytes: matched over a stack or pooled copy of the path, no allocation.</summary>
    private int SubstituteLiteral(ReadOnlySpan<byte> path, ref byte[] buffer)
    {
        char[]? rented = null;
        var chars = path.Length <= 1024 ? stackalloc char[path.Length] : (rented = ArrayPool<char>.Shared.Rent(path.Length)).AsSpan(0, path.Length);
        Encoding.Latin1.GetChars(path, chars); // a path is bytes; Latin-1 maps each to one char and back unchanged
        var length = 0;
        var copied = 0;
        foreach (var match in _pattern!.EnumerateMatches(chars))
        {
            length = Append(ref buffer, length, path[copied..match.Index]);
            length = Append(ref buffer, length, _literalSubstitution);
            copied = match.Index + match.Length;
        }

        length = Append(ref buffer, length, path[copied..]);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return length;
    }

    /// <summary>A substitution with capture groups: the regex engine needs a string, one per request (documented).</summary>
    private int SubstituteGroups(ReadOnlySpan<byte> path, ref byte[] buffer)
    {
        var result = _pattern!.Replace(Encoding.Latin1.GetString(path), _substitution!);
        Ensure(ref buffer, result.Length);
        return Encoding.Latin1.GetBytes(result, buffer);
    }

    private static int Append(ref byte[] buffer, int length, ReadOnlySpan<byte> bytes)
    {
        Ensure(ref buffer, length + bytes.Length);
        bytes.CopyTo(buffer.AsSpan(length));
        return length + bytes.Length;
    }

    private static void Ensure(ref byte[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            Array.Resize(ref buffer, Math.Max(length, Math.Max(256, buffer.Length * 2)));
        }
    }

    /// <summary>Envoy's <c>\1</c> groups as .NET's <c>${1}</c>, a literal <c>$</c> doubled; and whether any group is named.</summary>
    private static (string Substitution, bool UsesGroups) ToDotNetSubstitution(string envoy)
    {
        var result = new StringBuilder();
        var usesGroups = false;
        for (var i = 0; i < envoy.Length; i++)
        {
            var c = envoy[i];
            if (c == '\\' && i + 1 < envoy.Length && char.IsAsciiDigit(envoy[i + 1]))
            {
                result.Append("${").Append(envoy[i + 1]).Append('}');
                usesGroups = true;
                i++;
            }
            else if (c == '\\' && i + 1 < envoy.Length && envoy[i + 1] == '\\')
            {
                result.Append('\\');
                i++;
            }
            else
            {
                result.Append(c == '$' ? "$$" : c.ToString());
            }
        }

        return (result.ToString(), usesGroups);
    }
}
