using System.Diagnostics.CodeAnalysis;

namespace Proxy.Routing;

/// <summary>
/// One parsed virtual host domain (Envoy's <c>VirtualHost.domains</c> entry): its form, the fixed text around the
/// wildcard in lowercase, and its port, or -1 when it names none (then it matches the host on any port, or none).
/// The wildcard stands for one character or more: "*.example.com" does not match "example.com" nor ".example.com".
/// </summary>
/// <param name="Kind">Exact, suffix wildcard, prefix wildcard or any.</param>
/// <param name="Text">The host (exact), the part after '*' (suffix), the part before it (prefix); empty for any.</param>
/// <param name="Port">The port the Host header must carry, or -1 for any port.</param>
public readonly record struct DomainPattern(DomainKind Kind, string Text, int Port)
{
    /// <summary>
    /// Parses a domain: exact, <c>*.suffix</c>, <c>prefix.*</c> or <c>*</c>, each but the last with an optional
    /// <c>:port</c>; IPv6 literals are written in brackets. On failure <paramref name="problem"/> says what to fix.
    /// </summary>
    public static bool TryParse(string? domain, out DomainPattern pattern, [NotNullWhen(false)] out string? problem)
    {
        pattern = default;
        if (string.IsNullOrEmpty(domain))
        {
            problem = "a domain must not be empty; write '*' for every host";
            return false;
        }

        if (domain == "*")
        {
            pattern = new DomainPattern(DomainKind.Any, "", -1);
            problem = null;
            return true;
        }

        string host = domain.ToLowerInvariant();
        int port = -1;
        int colon = host.LastIndexOf(':');
        if (colon >= 0 && host.IndexOf(']', colon) < 0)
        {
            if (!int.TryParse(host.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out port) || port is < 1 or > 65535)
            {
                problem = $"'{domain}': the port after ':' must be a number from 1 to 65535";
                return false;
            }

            host = host.Substring(0, colon);
            if (host == "*")
            {
                problem = $"'{domain}': the catch-all '*' takes no port; list the hosts, or use '*' alone";
                return false;
            }
        }

        int star = host.IndexOf('*');
        if (star >= 0 && (host.IndexOf('*', star + 1) >= 0 || (star != 0 && star != host.Length - 1)))
        {
            problem = $"'{domain}': '*' may only begin a domain ('*.example.com'), end one ('example.*') or stand alone ('*')";
            return false;
        }

        DomainKind kind = star < 0 ? DomainKind.Exact : star == 0 ? DomainKind.Suffix : DomainKind.Prefix;
        string text = kind switch
        {
            DomainKind.Suffix => host.Substring(1),
            DomainKind.Prefix => host.Substring(0, host.Length - 1),
            _ => host.EndsWith('.') && host.Length > 1 ? host.Substring(0, host.Length - 1) : host,
        };
        if (!CheckText(domain, text, kind, out problem))
        {
            return false;
        }

        pattern = new DomainPattern(kind, text, port);
        return true;
    }

    /// <summary>The canonical spelling ("*.example.com:8080"), used to find the same domain written twice.</summary>
    public override string ToString()
    {
        string host = Kind switch
        {
            DomainKind.Suffix => "*" + Text,
            DomainKind.Prefix => Text + "*",
            DomainKind.Any => "*",
            _ => Text,
        };
        return Port < 0 ? host : host + ":" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool CheckText(string domain, string text, DomainKind kind, [NotNullWhen(false)] out string? problem)
    {
        if (text.Length == 0)
        {
            problem = $"'{domain}': a wildcard needs text beside the '*', like '*.example.com'";
            return false;
        }

        if (kind == DomainKind.Exact && text[0] == '[')
        {
            // IP-literal (RFC 3986 section 3.2.2): hex digits, ':' and '.' between brackets.
            bool valid = text.Length > 2 && text[^1] == ']';
            for (int i = 1; valid && i < text.Length - 1; i++)
            {
                valid = char.IsAsciiHexDigit(text[i]) || text[i] is ':' or '.';
            }

            problem = valid ? null : $"'{domain}': an IPv6 address is written in brackets, like '[::1]' or '[::1]:8080'";
            return valid;
        }

        if (kind == DomainKind.Exact && (text[0] == '.' || text.Contains("..", StringComparison.Ordinal)))
        {
            problem = $"'{domain}': a host name must not have empty labels";
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAscii(c))
            {
                problem = $"'{domain}': a domain must be ASCII; write internationalized names in their 'xn--' form";
                return false;
            }

            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_'))
            {
                problem = $"'{domain}': the character '{c}' is not allowed in a domain";
                return false;
            }
        }

        problem = null;
        return true;
    }
}
