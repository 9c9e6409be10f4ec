using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>
/// A route's action: which one it has (exactly one of cluster, split, redirect, direct_response), and the binding
/// of the two that answer without forwarding (Envoy's RedirectAction and DirectResponseAction).
/// </summary>
internal static partial class ConfigBinder
{
    private static readonly string[] ActionKeys = ["cluster", "split", "redirect", "direct_response"];
    private static readonly string[] RedirectKeys = ["https_redirect", "scheme", "host", "port", "path", "prefix_rewrite", "strip_query", "status"];
    private static readonly string[] DirectResponseKeys = ["status", "body", "body_file", "content_type"];

    /// <summary>The keys of a route that only mean something when it forwards (response_headers: relayed responses only, for now).</summary>
    private static readonly string[] ForwardingOnlyKeys =
        ["timeout", "retries", "mirror", "request_headers", "prefix_rewrite", "regex_rewrite", "host_rewrite", "auto_host_rewrite"];

    /// <summary>Reports a route with no action, or with more than one (at each extra one, naming the first).</summary>
    private static void CheckRouteAction(MappingView map)
    {
        string? first = null;
        foreach (string key in ActionKeys)
        {
            if (!map.Has(key))
            {
                continue;
            }

            if (first is null)
            {
                first = key;
            }
            else
            {
                map.Error(key, $"a route takes either '{first}' or '{key}', not both: one action per route (cluster, split, redirect or direct_response)");
            }
        }

        if (first is null)
        {
            map.Error("cluster", "a route needs 'cluster' or 'split' to forward, or 'redirect' or 'direct_response' to answer itself");
            return;
        }

        if (first is "redirect" or "direct_response")
        {
            foreach (string key in ForwardingOnlyKeys)
            {
                if (map.Has(key))
                {
                    map.Error(key, $"a route with '{first}' forwards nothing, so '{key}' has no effect; remove it or route to a cluster");
                }
            }
        }
    }

    private static RedirectConfig? BindRedirect(BindContext ctx, ConfigNode node, string path, RouteMatchConfig match)
    {
        var map = MappingView.Open(ctx, node, path, RedirectKeys);
        if (map is null)
        {
            return null;
        }

        bool? httpsValue = map.Get("https_redirect") is { } httpsNode ? ctx.ReadBool(httpsNode, map.ChildPath("https_redirect")) : null;
        bool https = httpsValue == true;
        string? scheme = map.String("scheme")?.ToLowerInvariant();
        if (scheme is not null && !IsScheme(scheme))
        {
            map.Error("scheme", $"'{scheme}' is not a URI scheme (a letter, then letters, digits, '+', '-' or '.'; RFC 3986 section 3.1)");
        }
        if (https && scheme is not null)
        {
            map.Error("scheme", "set either 'https_redirect: true' or 'scheme', not both");
        }
        if (httpsValue == false)
        {
            map.Error("https_redirect", "only 'https_redirect: true' means something; remove the key to keep the request's scheme");
        }

        string? host = map.String("host")?.ToLowerInvariant();
        if (host is not null && Ipv6Literal(host) is { } bracketed)
        {
            host = bracketed; // the Location's authority brackets it (RFC 3986 3.2.2)
        }
        else if (host is not null && !HostPort.IsValidHost(host))
        {
            map.Error("host", $"'{host}' is not a host name, an IPv4 address or an IPv6 address (write the port under 'port')");
        }

        int? port = map.Has("port") ? map.Int("port", 0, 1, 65535) : null;
        string? redirectPath = CheckRedirectPath(map, "path", allowQuery: true);
        string? prefixRewrite = CheckRedirectPath(map, "prefix_rewrite", allowQuery: false);
        if (redirectPath is not null && prefixRewrite is not null)
        {
            map.Error("prefix_rewrite", "set either 'path' (the whole path) or 'prefix_rewrite' (the matched prefix), not both");
        }
        if (prefixRewrite is not null && match.PathExact is not null)
        {
            map.Error("prefix_rewrite", "prefix_rewrite replaces the route's match.path_prefix, but this route matches path_exact; use 'path' instead");
        }
        else if (prefixRewrite is not null && match.PathRegex is not null)
        {
            map.Error("prefix_rewrite", "prefix_rewrite replaces the route's match.path_prefix, but this route matches path_regex, which takes no fixed prefix; use 'path' instead");
        }

        int status = map.Int("status", 301, 0, int.MaxValue);
        if (map.Has("status") && !RedirectConfig.Statuses.Contains(status))
        {
            map.Error("status", $"{status} is not a redirect status; use 301, 302, 303, 307 or 308");
        }

        return new RedirectConfig
        {
            HttpsRedirect = https,
            Scheme = scheme,
            Host = host,
            Port = port,
            Path = redirectPath,
            PrefixRewrite = prefixRewrite,
            StripQuery = map.Bool("strip_query", false),
            Status = status,
        };
    }

    /// <summary>An IPv6 address, bare or in brackets, as the Location writes it ("[2001:db8::1]"); null for anything else.</summary>
    private static string? Ipv6Literal(string host)
    {
        var inner = host.Length > 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        return inner.Contains(':', StringComparison.Ordinal) && inner.AsSpan().IndexOfAny("[]%") < 0
            && System.Net.IPAddress.TryParse(inner, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{address}]"
            : null;
    }

    /// <summary>A path of the Location: starts with '/', no spaces, controls or fragment; a query only where allowed.</summary>
    private static string? CheckRedirectPath(MappingView map, string key, bool allowQuery)
    {
        string? value = map.String(key);
        if (value is null)
        {
            return null;
        }
        if (!value.StartsWith('/'))
        {
            map.Error(key, $"'{value}' must start with '/'");
            return null;
        }
        foreach (char c in value)
        {
            if (c <= ' ' || c >= '\u007f' || c == '#' || (c == '?' && !allowQuery))
            {
                map.Error(key, c == '?' || c == '#'
                    ? $"'{value}' must not contain '{c}'"
                    : $"'{value}' must not contain spaces, control or non-ASCII characters; percent-encode them");
                return null;
            }
        }
        return value;
    }

    // RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    private static bool IsScheme(string value)
    {
        if (value.Length == 0 || !char.IsAsciiLetter(value[0]))
        {
            return false;
        }
        foreach (char c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            {
                return false;
            }
        }
        return true;
    }

    private static DirectResponseConfig? BindDirectResponse(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, DirectResponseKeys);
        if (map is null)
        {
            return null;
        }

        int? status = map.RequiredInt("status", 200, 599);
        if (map.Has("body") && map.Has("body_file"))
        {
            map.Error("body_file", "set either 'body' (inline) or 'body_file', not both");
        }

        ConfigBytes? body = null;
        string? file = null;
        if (map.String("body") is { } text)
        {
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
            if (bytes.Length > DirectResponseConfig.MaxBodyBytes)
            {
                map.Error("body", $"the body is {bytes.Length} bytes, more than the {DirectResponseConfig.MaxBodyBytes} a direct response may have");
            }
            body = new ConfigBytes(bytes);
        }
        else if (map.File("body_file") is { } bodyFile)
        {
            file = bodyFile;
            body = ReadBodyFile(map, bodyFile);
        }

        if (body is not null && status is 204 or 304)
        {
            map.Error(map.Has("body") ? "body" : "body_file", $"a {status} response has no body (RFC 9110 section 15); remove the body or change the status");
        }

        string? contentType = map.String("content_type");
        if (contentType is not null && !IsFieldValueText(contentType))
        {
            map.Error("content_type", $"'{contentType}' is not a field value: ASCII without control characters, and no leading or trailing spaces");
        }

        return status is null ? null : new DirectResponseConfig { Status = status.Value, Body = body, BodyFile = file, ContentType = contentType };
    }

    /// <summary>Reads a body file at load (a change takes effect at the next reload); errors name the file.</summary>
    private static ConfigBytes? ReadBodyFile(MappingView map, string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > DirectResponseConfig.MaxBodyBytes)
            {
                map.Error("body_file", $"the body file {path} is {info.Length} bytes, more than the {DirectResponseConfig.MaxBodyBytes} a direct response may have");
                return null;
            }
            bytes = FileReadError.ReadAllBytes("the body file", path);
        }
        catch (UnusableFileException ex)
        {
            map.Error("body_file", ex.Message);
            return null;
        }
        if (bytes.Length > DirectResponseConfig.MaxBodyBytes)
        {
            map.Error("body_file", $"the body file {path} is {bytes.Length} bytes, more than the {DirectResponseConfig.MaxBodyBytes} a direct response may have");
            return null;
        }
        return new ConfigBytes(bytes);
    }

    // RFC 9110 section 5.5: visible characters, spaces and tabs inside; no leading or trailing whitespace.
    private static bool IsFieldValueText(string value)
    {
        foreach (char c in value)
        {
            if ((c < ' ' && c != '\t') || c >= '\u007f')
            {
                return false;
            }
        }
        return value.Length > 0 && value[0] is not (' ' or '\t') && value[^1] is not (' ' or '\t');
    }
}
