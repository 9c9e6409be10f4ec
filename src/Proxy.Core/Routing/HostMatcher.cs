using System.Text;

namespace Proxy.Routing;

/// <summary>
/// Compiled host condition: any host, an exact host, or a wildcard suffix. Compares ASCII
/// case-insensitively against a request host whose port was already removed by <see cref="Normalize"/>.
/// </summary>
internal readonly struct HostMatcher
{
    // Lowercase ASCII. Exact: the whole host. Wildcard: the suffix with its leading dot (".example.com").
    private readonly byte[]? _value;
    private readonly bool _wildcard;

    private HostMatcher(byte[] value, bool wildcard)
    {
        _value = value;
        _wildcard = wildcard;
    }

    /// <summary>Matches every host, including an absent one.</summary>
    public static HostMatcher Any => default;

    /// <summary>True when the matcher places no condition on the host.</summary>
    public bool IsAny => _value is null;

    /// <summary>The lowercase host of an exact matcher; null for any and wildcard matchers.</summary>
    public byte[]? ExactHost => _wildcard ? null : _value;

    /// <summary>Matches exactly <paramref name="host"/> (already validated, ASCII).</summary>
    public static HostMatcher Exact(string host) => new(Encoding.ASCII.GetBytes(host.ToLowerInvariant()), wildcard: false);

    /// <summary>Matches any host ending in <paramref name="dotSuffix"/> (".example.com") with at least one byte before it.</summary>
    public static HostMatcher Wildcard(string dotSuffix) => new(Encoding.ASCII.GetBytes(dotSuffix.ToLowerInvariant()), wildcard: true);

    /// <summary>Tests a normalized request host.</summary>
    public bool Matches(ReadOnlySpan<byte> host)
    {
        byte[]? value = _value;
        if (value is null)
        {
            return true;
        }

        if (!_wildcard)
        {
            return host.Length == value.Length && Ascii.EqualsIgnoreCase(host, value);
        }

        // Strictly longer: "*.example.com" needs a label in front, so "example.com" and ".example.com" fail.
        return host.Length > value.Length && Ascii.EqualsIgnoreCase(host.Slice(host.Length - value.Length), value);
    }

    /// <summary>
    /// Removes the port and one trailing dot from an authority (RFC 9110 section 7.2, RFC 3986 section 3.2.2):
    /// "Example.com:8080" -> "Example.com", "[::1]:80" -> "[::1]", "example.com." -> "example.com".
    /// </summary>
    public static ReadOnlySpan<byte> Normalize(ReadOnlySpan<byte> authority)
    {
        ReadOnlySpan<byte> host;
        if (!authority.IsEmpty && authority[0] == (byte)'[')
        {
            // IP-literal: the port, if any, follows the closing bracket; colons inside are the address.
            int close = authority.IndexOf((byte)']');
            host = close < 0 ? authority : authority.Slice(0, close + 1);
            return host;
        }

        int colon = authority.IndexOf((byte)':');
        host = colon < 0 ? authority : authority.Slice(0, colon);
        if (!host.IsEmpty && host[^1] == (byte)'.')
        {
            host = host.Slice(0, host.Length - 1);
        }

        return host;
    }
}
