using System.Buffers;
using System.Text;

namespace Proxy.Http.Http1;

/// <summary>
/// A parsed HTTP/1.x request head (RFC 9112 section 3): method, target, version and field lines
/// located in place, plus the framing and connection facts the forwarder needs. Reused per
/// connection or from an object pool; nothing is allocated per request once warmed up.
/// </summary>
public sealed class Http1RequestHead : Http1Head
{
    private int _methodStart;
    private int _methodLength;
    private int _targetStart;
    private int _targetLength;
    private int _authorityStart;
    private int _authorityLength;
    private int _pathStart;
    private int _hostIndex;

    /// <summary>Creates a head enforcing <paramref name="limits"/> (default: <see cref="Http1Limits.Default"/>).</summary>
    public Http1RequestHead(Http1Limits? limits = null)
        : base(limits)
    {
    }

    /// <summary>The method; <see cref="RequestMethod.Other"/> for extension methods (see <see cref="MethodBytes"/>).</summary>
    public RequestMethod Method { get; private set; }

    /// <summary>The method token as received.</summary>
    public ReadOnlySpan<byte> MethodBytes => HeadBytes.Slice(_methodStart, _methodLength);

    /// <summary>The request-target as received.</summary>
    public ReadOnlySpan<byte> Target => HeadBytes.Slice(_targetStart, _targetLength);

    /// <summary>Which of the four target forms was used.</summary>
    public RequestTargetForm TargetForm { get; private set; }

    /// <summary>
    /// The path and query to send to an origin server: the target for origin-form, the part after
    /// the authority for absolute-form (possibly empty: the writer then sends "/"), the target otherwise.
    /// </summary>
    public ReadOnlySpan<byte> PathAndQuery => HeadBytes[_pathStart..(_targetStart + _targetLength)];

    /// <summary>The path without the query, for routing.</summary>
    public ReadOnlySpan<byte> Path
    {
        get
        {
            ReadOnlySpan<byte> p = PathAndQuery;
            int q = p.IndexOf((byte)'?');
            return q < 0 ? p : p[..q];
        }
    }

    /// <summary>
    /// The authority of the target URI (RFC 9112 3.3): from the target in absolute- and
    /// authority-form, else the Host value.
    /// </summary>
    public ReadOnlySpan<byte> Authority => _authorityLength >= 0
        ? HeadBytes.Slice(_authorityStart, _authorityLength)
        : Host;

    /// <summary>The Host field value, empty when absent.</summary>
    public ReadOnlySpan<byte> Host => _hostIndex < 0 ? default : GetValue(_hostIndex);

    /// <summary>Expect: 100-continue was sent (RFC 9110 10.1.1).</summary>
    public bool ExpectContinue { get; private set; }

    /// <summary>TE lists "trailers": the client accepts trailer fields in a chunked response (RFC 9110 10.1.4).</summary>
    public bool AcceptsTrailers { get; private set; }

    /// <summary>
    /// An upgrade request the proxy relays: an Upgrade field and the "upgrade" Connection option (RFC 9110 7.8).
    /// An offer of h2c is not relayed (RFC 9113 3.1 deprecates it): after a 101 the connection would be an opaque
    /// tunnel of HTTP/2 streams that no route, limit or authorization rule sees ("h2c smuggling"). Such a request
    /// is forwarded as a plain HTTP/1.1 request, its Upgrade and HTTP2-Settings fields dropped as hop-by-hop.
    /// </summary>
    public bool IsUpgradeRequest => HasUpgrade && ConnectionUpgrade && !UpgradeOffersH2c;

    /// <summary>How the request body is delimited: chunked, Content-Length, or none (RFC 9112 6.3 rules 4-6).</summary>
    public Http1BodyFraming BodyFraming =>
        IsChunked ? Http1BodyFraming.Chunked
        : ContentLength >= 0 ? Http1BodyFraming.ContentLength
        : Http1BodyFraming.None;

    /// <summary>
    /// Parses a request head. True: parsed and consumed. False with <see cref="Http1ParseError.None"/>:
    /// need more bytes, nothing consumed. False with an error: reject with
    /// <see cref="Http1ParseErrors.ToStatusCode"/> and close; nothing consumed.
    /// </summary>
    public bool TryParse(ref SequenceReader<byte> input, out Http1ParseError error) => TryParseCore(ref input, isRequest: true, out error);

    private protected override void ClearDerived()
    {
        Method = RequestMethod.Other;
        TargetForm = RequestTargetForm.Origin;
        _methodStart = _methodLength = _targetStart = _targetLength = _pathStart = 0;
        _authorityStart = 0;
        _authorityLength = -1;
        _hostIndex = -1;
        ExpectContinue = false;
        AcceptsTrailers = false;
    }

    /// <summary>request-line = method SP request-target SP HTTP-version (RFC 9112 3), single spaces only.</summary>
    private protected override Http1ParseError ParseStartLine(ReadOnlySpan<byte> line, int start)
    {
        int sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0) return Http1ParseError.InvalidRequestLine;
        ReadOnlySpan<byte> method = line[..sp1];
        if (method.ContainsAnyExcept(HttpCharacters.Token)) return Http1ParseError.InvalidMethod;

        ReadOnlySpan<byte> rest = line[(sp1 + 1)..];
        int sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0) return Http1ParseError.InvalidRequestLine;
        ReadOnlySpan<byte> target = rest[..sp2];
        if (target.Length > Limits.MaxRequestTargetLength) return Http1ParseError.RequestTargetTooLong;

        Http1ParseError error = ParseVersion(rest[(sp2 + 1)..], out Http1Version version);
        if (error != Http1ParseError.None) return error;

        Version = version;
        Method = RequestMethods.Parse(method);
        _methodStart = start;
        _methodLength = sp1;
        _targetStart = start + sp1 + 1;
        _targetLength = sp2;
        _pathStart = _targetStart;
        return ParseTarget(target);
    }

    /// <summary>Classifies and checks the request-target form (RFC 9112 3.2.1 - 3.2.4).</summary>
    private Http1ParseError ParseTarget(ReadOnlySpan<byte> target)
    {
        // Visible ASCII only; a fragment is never part of a request-target.
        if (target.ContainsAnyExcept(HttpCharacters.TargetChar) || target.Contains((byte)'#'))
        {
            return Http1ParseError.InvalidRequestTarget;
        }

        // 3.2.3: CONNECT takes authority-form and nothing else.
        if (Method == RequestMethod.Connect)
        {
            TargetForm = RequestTargetForm.Authority;
            _authorityStart = _targetStart;
            _authorityLength = _targetLength;
            return IsHostAndPort(target, requirePort: true) ? Http1ParseError.None : Http1ParseError.InvalidRequestTarget;
        }

        if (target[0] == (byte)'/')
        {
            TargetForm = RequestTargetForm.Origin;
            return Http1ParseError.None;
        }

        // 3.2.4: asterisk-form only for a server-wide OPTIONS.
        if (target.Length == 1 && target[0] == (byte)'*')
        {
            TargetForm = RequestTargetForm.Asterisk;
            return Method == RequestMethod.Options ? Http1ParseError.None : Http1ParseError.InvalidRequestTarget;
        }

        // 3.2.2: absolute-form; we only proxy the http and https schemes.
        int schemeEnd;
        if (target.Length > 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8)) schemeEnd = 7;
        else if (target.Length > 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8)) schemeEnd = 8;
        else return Http1ParseError.InvalidRequestTarget;

        ReadOnlySpan<byte> afterScheme = target[schemeEnd..];
        int authorityEnd = afterScheme.IndexOfAny("/?"u8);
        if (authorityEnd < 0) authorityEnd = afterScheme.Length;
        ReadOnlySpan<byte> authority = afterScheme[..authorityEnd];

        // RFC 9110 4.2.4: userinfo in an http(s) URI is treated as an error.
        if (authority.IsEmpty || !IsHostAndPort(authority, requirePort: false)) return Http1ParseError.InvalidRequestTarget;

        TargetForm = RequestTargetForm.Absolute;
        _authorityStart = _targetStart + schemeEnd;
        _authorityLength = authorityEnd;
        _pathStart = _authorityStart + authorityEnd;
        return Http1ParseError.None;
    }

    private protected override Http1ParseError Validate()
    {
        int hostCount = 0;
        ReadOnlySpan<Http1HeaderField> fields = Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            switch (fields[i].Kind)
            {
                case KnownHeader.Host:
                    if (++hostCount > 1) return Http1ParseError.MultipleHost;
                    _hostIndex = i;
                    break;
                case KnownHeader.Expect:
                    if (Ascii.EqualsIgnoreCase(GetValue(i), "100-continue"u8)) ExpectContinue = true;
                    break;
                case KnownHeader.TE:
                    var codings = new HttpListReader(GetValue(i));
                    while (codings.TryNext(out ReadOnlySpan<byte> coding))
                    {
                        if (Ascii.EqualsIgnoreCase(coding, "trailers"u8)) AcceptsTrailers = true;
                    }

                    break;
            }
        }

        // RFC 9112 3.2: a server MUST respond 400 to an HTTP/1.1 request without Host or with several.
        if (hostCount == 0 && Version == Http1Version.Http11) return Http1ParseError.MissingHost;
        if (hostCount == 1 && !IsHostValue(Host)) return Http1ParseError.InvalidHost;

        if (HasTransferEncoding)
        {
            // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
            if (Version == Http1Version.Http10) return Http1ParseError.TransferEncodingInHttp10;

            // RFC 9112 6.3 rule 4: a request whose final coding is not chunked has no reliable length.
            if (!IsChunked) return Http1ParseError.InvalidTransferEncoding;

            // 6.1: a server that does not understand a coding SHOULD answer 501; the proxy would
            // otherwise forward a body still encoded with a coding whose header it had to drop.
            if (TransferCodingOther) return Http1ParseError.UnsupportedTransferCoding;
        }

        return Http1ParseError.None;
    }

    // Host = uri-host [ ":" port ] (RFC 9110 7.2); empty is allowed when the target URI has no authority.
    private static bool IsHostValue(ReadOnlySpan<byte> host) => host.IsEmpty || IsHostAndPort(host, requirePort: false);

    /// <summary>
    /// uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2): uri-host is an IP-literal in brackets or a reg-name of
    /// unreserved, pct-encoded and sub-delims characters (an IPv4 address is one); an empty host is invalid in an
    /// http URI (RFC 9110 4.2.1). RFC 9112 3.2 requires 400 for an invalid Host, so "[::1", "a:b:80" and "%zz" are refused.
    /// </summary>
    private static bool IsHostAndPort(ReadOnlySpan<byte> value, bool requirePort)
    {
        ReadOnlySpan<byte> port;
        if (!value.IsEmpty && value[0] == (byte)'[')
        {
            // IP-literal = "[" ( IPv6address / IPvFuture ) "]", checked for its characters: hex digits, ':' and the
            // dots of an embedded IPv4 address. IPvFuture ("v1.x") has no use in HTTP.
            int close = value.IndexOf((byte)']');
            if (close < 2 || value[1..close].ContainsAnyExcept(HttpCharacters.IpLiteralChar)) return false;
            port = value[(close + 1)..];
            if (!port.IsEmpty && port[0] != (byte)':') return false;
        }
        else
        {
            int colon = value.IndexOf((byte)':');
            ReadOnlySpan<byte> host = colon < 0 ? value : value[..colon];
            if (host.IsEmpty || !HttpCharacters.IsRegName(host)) return false;
            port = colon < 0 ? default : value[colon..];
        }

        // port = *DIGIT after the colon; more than 5 digits cannot be a port number.
        if (port.Length <= 1) return !requirePort;
        port = port[1..];
        return port.Length <= 5 && !port.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }
}
