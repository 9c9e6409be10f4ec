using Proxy.Http;
using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets.Reference;

/// <summary>Start lines, Host, and the message body length (RFC 9112 3, 4 and 6.3).</summary>
public static partial class SimpleHttp1Reader
{
    /// <summary>3: request-line = method SP request-target SP HTTP-version.</summary>
    private static ReferenceVerdict ReadRequest(ReadOnlySpan<byte> input, ReadOnlySpan<byte> line, List<(string Name, byte[] Value)> fields, int headEnd, Http1Limits limits)
    {
        if (line.Length + 2 > limits.MaxRequestTargetLength + 1024)
        {
            return ReferenceVerdict.Reject("limit");
        }

        string text = System.Text.Encoding.Latin1.GetString(line);
        string[] parts = text.Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            return ReferenceVerdict.Reject("request line is not three parts");
        }

        string method = parts[0];
        string target = parts[1];
        if (!IsToken(method))
        {
            return ReferenceVerdict.Reject("method is not a token");
        }

        if (target.Length > limits.MaxRequestTargetLength)
        {
            return ReferenceVerdict.Reject("limit");
        }

        int? minor = ReadVersion(parts[2]);
        if (minor is null)
        {
            return ReferenceVerdict.Reject("version");
        }

        // 3.2: the four forms; the proxy answers 400 to a target of another shape (3: "SHOULD respond 400").
        foreach (char c in target)
        {
            if (c < 0x21 || c > 0x7E || c == '#')
            {
                return ReferenceVerdict.Reject("target has a byte outside VCHAR, or a fragment");
            }
        }

        if (method == "CONNECT")
        {
            // 3.2.3: authority-form = uri-host ":" port, and CONNECT has no other form; RFC 9110 9.3.6: the port is required.
            if (!IsHostAndPort(target, requirePort: true))
            {
                return ReferenceVerdict.Reject("CONNECT target");
            }
        }
        else if (target == "*")
        {
            if (method != "OPTIONS")
            {
                return ReferenceVerdict.Reject("asterisk-form without OPTIONS");
            }
        }
        else if (!target.StartsWith('/'))
        {
            // 3.2.2 absolute-form; the proxy proxies http and https only, and RFC 9110 4.2.4 refuses userinfo.
            int schemeEnd = target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? 7
                : target.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? 8
                : -1;
            if (schemeEnd < 0)
            {
                return ReferenceVerdict.Reject("target form");
            }

            string rest = target[schemeEnd..];
            int end = rest.IndexOfAny(['/', '?']);
            string authority = end < 0 ? rest : rest[..end];
            if (authority.Length == 0 || !IsHostAndPort(authority, requirePort: false))
            {
                return ReferenceVerdict.Reject("absolute-form authority");
            }
        }

        // 3.2: a server MUST respond 400 to an HTTP/1.1 request without Host, to several Host lines, and to an
        // invalid Host value.
        int hosts = 0;
        foreach ((string name, byte[] value) in fields)
        {
            if (name == "host")
            {
                hosts++;
                string host = System.Text.Encoding.Latin1.GetString(value);
                if (host.Length > 0 && !IsHostAndPort(host, requirePort: false))
                {
                    return ReferenceVerdict.Reject("invalid Host");
                }
            }
        }

        if (hosts > 1 || (hosts == 0 && minor != 0))
        {
            return ReferenceVerdict.Reject("Host count");
        }

        // 6.3 for a request: chunked if it is the final coding; any other coding is refused; else Content-Length; else none.
        return Frame(input, fields, headEnd, minor.Value, isRequest: true, noBody: false, tunnel: false, limits);
    }

    /// <summary>4: status-line = HTTP-version SP status-code SP [ reason-phrase ].</summary>
    private static ReferenceVerdict ReadResponse(ReadOnlySpan<byte> input, ReadOnlySpan<byte> line, List<(string Name, byte[] Value)> fields, int headEnd, RequestMethod method, Http1Limits limits)
    {
        if (line.Length + 2 > limits.MaxRequestTargetLength + 1024)
        {
            return ReferenceVerdict.Reject("limit");
        }

        string text = System.Text.Encoding.Latin1.GetString(line);
        if (text.Length < 12 || text[8] != ' ')
        {
            return ReferenceVerdict.Reject("status line");
        }

        int? minor = ReadVersion(text[..8]);
        string code = text.Substring(9, 3);
        if (minor is null || !code.All(char.IsAsciiDigit) || code[0] < '1' || code[0] > '5')
        {
            return ReferenceVerdict.Reject("status line");
        }

        // 4: the SP before an empty reason is required of senders; the proxy accepts "HTTP/1.1 200" without it.
        if (text.Length > 12 && text[12] != ' ')
        {
            return ReferenceVerdict.Reject("status line");
        }

        // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
        foreach (char c in text[Math.Min(13, text.Length)..])
        {
            if (!(c is '\t' or ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80))
            {
                return ReferenceVerdict.Reject("reason phrase has a control byte");
            }
        }

        int status = int.Parse(code, System.Globalization.CultureInfo.InvariantCulture);

        // 6.3 rules 1 and 2: HEAD, 1xx, 204 and 304 have no body; a 2xx to CONNECT is a tunnel.
        bool noBody = method == RequestMethod.Head || status < 200 || status == 204 || status == 304;
        bool tunnel = !noBody && method == RequestMethod.Connect && status < 300;
        return Frame(input, fields, headEnd, minor.Value, isRequest: false, noBody, tunnel, limits);
    }

    private static int? ReadVersion(string version)
    {
        // 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; only major version 1 is this protocol.
        if (version.Length != 8 || !version.StartsWith("HTTP/1.", StringComparison.Ordinal) || !char.IsAsciiDigit(version[7]))
        {
            return null;
        }

        return version[7] - '0';
    }

    /// <summary>
    /// RFC 9110 7.2 and RFC 3986 3.2.2: uri-host [ ":" port ], uri-host = IP-literal / IPv4address / reg-name,
    /// reg-name = *( unreserved / pct-encoded / sub-delims ), port = *DIGIT (the proxy takes at most 5 digits). An
    /// empty host is invalid in an http URI (RFC 9110 4.2.1).
    /// </summary>
    internal static bool IsHostAndPort(string value, bool requirePort)
    {
        string host;
        string? port = null;
        if (value.StartsWith('['))
        {
            int close = value.IndexOf(']');
            if (close < 0)
            {
                return false;
            }

            host = value[..(close + 1)];
            string after = value[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    return false;
                }

                port = after[1..];
            }

            // IP-literal = "[" ( IPv6address / IPvFuture ) "]", read loosely: hex digits, colons and dots.
            string inside = host[1..^1];
            if (inside.Length == 0 || !inside.All(c => Uri.IsHexDigit(c) || c is ':' or '.'))
            {
                return false;
            }
        }
        else
        {
            int colon = value.IndexOf(':');
            host = colon < 0 ? value : value[..colon];
            port = colon < 0 ? null : value[(colon + 1)..];
            for (int i = 0; i < host.Length; i++)
            {
                char c = host[i];
                if (c == '%')
                {
                    if (i + 2 >= host.Length || !Uri.IsHexDigit(host[i + 1]) || !Uri.IsHexDigit(host[i + 2]))
                    {
                        return false;
                    }

                    i += 2;
                }
                else if (!Unreserved.Contains(c) && !SubDelims.Contains(c))
                {
                    return false;
                }
            }
        }

        if (host.Length == 0)
        {
            return false;
        }

        if (port is null || port.Length == 0)
        {
            return !requirePort;
        }

        return port.Length <= 5 && port.All(char.IsAsciiDigit);
    }

    private static bool IsToken(string s) => s.Length > 0 && s.All(c => TokenChars.Contains(c));
}
