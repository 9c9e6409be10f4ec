namespace Proxy.Routing;

/// <summary>
/// A route's redirect, compiled (Envoy's RedirectAction): writes the <c>Location</c> of one request, its own URL with
/// the configured parts replaced, as Envoy's <c>Http::Utility::newUri</c> builds it. The configured parts are bytes
/// made once; the Location is written into the caller's buffer, so a redirect allocates nothing per request.
/// </summary>
/// <remarks>
/// The request's scheme is that of its connection to the proxy (<c>https</c> when the proxy terminated TLS), never a
/// client's <c>x-forwarded-proto</c> or <c>:scheme</c>. Its port is kept, except that it is dropped when a port is
/// configured, and when the scheme changes and the port is the old scheme's default (<c>:80</c> for http,
/// <c>:443</c> for https): <c>http://a.example:80/x</c> with <c>https_redirect</c> becomes <c>https://a.example/x</c>.
/// A configured host replaces the request's host and port.
/// </remarks>
public sealed class RedirectAction
{
    private static ReadOnlySpan<byte> Http => "http"u8;

    private static ReadOnlySpan<byte> Https => "https"u8;

    private readonly byte[] _scheme;
    private readonly byte[] _host;
    private readonly byte[] _port;
    private readonly byte[] _path;
    private readonly bool _pathHasQuery;
    private readonly byte[]? _prefixRewrite;
    private readonly int _matchedPrefixLength;
    private readonly bool _stripQuery;

    /// <param name="status">301, 302, 303, 307 or 308.</param>
    /// <param name="scheme">The Location's scheme, or null for the request's (<c>https</c> for https_redirect).</param>
    /// <param name="host">The Location's host, or null for the request's.</param>
    /// <param name="port">The Location's port, or null to keep the request's (see the remarks).</param>
    /// <param name="path">The Location's whole path (with a query, which is then kept as is), or null.</param>
    /// <param name="prefixRewrite">Replaces <paramref name="matchedPrefix"/> at the start of the path, or null.</param>
    /// <param name="matchedPrefix">The route's path_prefix, which <paramref name="prefixRewrite"/> replaces.</param>
    /// <param name="stripQuery">Drops the request's query.</param>
    public RedirectAction(int status, string? scheme = null, string? host = null, int? port = null, string? path = null,
        string? prefixRewrite = null, string matchedPrefix = "/", bool stripQuery = false)
    {
        Status = status;
        _scheme = Ascii(scheme);
        _host = Ascii(host);
        _port = port is { } p ? Ascii(":" + p.ToString(System.Globalization.CultureInfo.InvariantCulture)) : [];
        _path = Ascii(path);
        _pathHasQuery = path?.Contains('?') == true;
        _prefixRewrite = prefixRewrite is null ? null : Ascii(prefixRewrite);
        _matchedPrefixLength = matchedPrefix.Length;
        _stripQuery = stripQuery;
    }

    /// <summary>The redirect's status.</summary>
    public int Status { get; }

    /// <summary>The most bytes <see cref="WriteLocation"/> writes for a request of these host and target lengths.</summary>
    public int MaxLocationLength(int hostLength, int targetLength) =>
        Math.Max(_scheme.Length, Https.Length) + 3 + Math.Max(_host.Length, hostLength) + _port.Length
        + Math.Max(_path.Length, _prefixRewrite?.Length ?? 0) + targetLength + 1;

    /// <summary>
    /// Writes the Location for a request to <paramref name="requestHost"/> (Host or :authority, with its port if any)
    /// and <paramref name="target"/> (path and query as sent), on a connection that is TLS when
    /// <paramref name="requestTls"/>. <paramref name="destination"/> holds at least <see cref="MaxLocationLength"/>
    /// bytes. Returns the length written.
    /// </summary>
    public int WriteLocation(Span<byte> destination, ReadOnlySpan<byte> requestHost, ReadOnlySpan<byte> target, bool requestTls)
    {
        ReadOnlySpan<byte> requestScheme = requestTls ? Https : Http;
        ReadOnlySpan<byte> scheme = _scheme.Length > 0 ? _scheme : requestScheme;
        ReadOnlySpan<byte> host = _host.Length > 0 ? _host : RequestHost(requestHost, scheme, requestScheme);

        int n = 0;
        Append(destination, ref n, scheme);
        Append(destination, ref n, "://"u8);
        Append(destination, ref n, host);
        Append(destination, ref n, _port);

        int pathStart = n;
        int query = target.IndexOf((byte)'?');
        if (_path.Length > 0)
        {
            // A configured path with a query replaces the request's query too, and strip_query leaves it alone.
            Append(destination, ref n, _path);
            if (!_pathHasQuery && query >= 0 && !_stripQuery)
            {
                Append(destination, ref n, target[query..]);
            }

            return n;
        }

        if (_prefixRewrite is not null && target.Length >= _matchedPrefixLength)
        {
            Append(destination, ref n, _prefixRewrite);
            target = target[_matchedPrefixLength..];
            query = target.IndexOf((byte)'?');
        }

        // Envoy: a path that does not start with '/' (an empty or asterisk target) gets one.
        if (n == pathStart && (target.IsEmpty || target[0] != (byte)'/'))
        {
            Append(destination, ref n, "/"u8);
        }

        Append(destination, ref n, _stripQuery && query >= 0 ? target[..query] : target);
        return n;
    }

    /// <summary>
    /// The request's host, its port dropped when a port is configured, or when the scheme changes and the port is the
    /// request scheme's default (Envoy's processRequestHost).
    /// </summary>
    private ReadOnlySpan<byte> RequestHost(ReadOnlySpan<byte> host, ReadOnlySpan<byte> scheme, ReadOnlySpan<byte> requestScheme)
    {
        if (host.IsEmpty)
        {
            return host;
        }

        // An IPv6 literal's port follows "]:"; otherwise the last ':' starts it.
        int colon;
        if (host[0] == (byte)'[')
        {
            colon = host.LastIndexOf("]:"u8);
            colon = colon < 0 ? -1 : colon + 1;
        }
        else
        {
            colon = host.LastIndexOf((byte)':');
        }

        if (colon < 0)
        {
            return host;
        }

        ReadOnlySpan<byte> port = host[colon..];
        bool drop = _port.Length > 0;
        if (!scheme.SequenceEqual(requestScheme))
        {
            drop |= requestScheme.SequenceEqual(Https) && port.SequenceEqual(":443"u8);
            drop |= requestScheme.SequenceEqual(Http) && port.SequenceEqual(":80"u8);
        }

        return drop ? host[..colon] : host;
    }

    private static void Append(Span<byte> destination, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[n..]);
        n += bytes.Length;
    }

    private static byte[] Ascii(string? text) => text is null ? [] : System.Text.Encoding.ASCII.GetBytes(text);
}
