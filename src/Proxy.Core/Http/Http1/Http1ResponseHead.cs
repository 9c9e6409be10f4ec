using System.Buffers;

namespace Proxy.Http.Http1;

/// <summary>
/// A parsed HTTP/1.x response head (RFC 9112 section 4) from an upstream, with the same
/// strictness as requests. Any parse error means the upstream misbehaved: answer 502.
/// </summary>
public sealed class Http1ResponseHead : Http1Head
{
    private int _reasonStart;
    private int _reasonLength;

    /// <summary>Creates a head enforcing <paramref name="limits"/> (default: <see cref="Http1Limits.Default"/>).</summary>
    public Http1ResponseHead(Http1Limits? limits = null)
        : base(limits)
    {
    }

    /// <summary>The three-digit status code.</summary>
    public int StatusCode { get; private set; }

    /// <summary>The reason phrase as received (may be empty).</summary>
    public ReadOnlySpan<byte> ReasonPhrase => HeadBytes.Slice(_reasonStart, _reasonLength);

    /// <summary>
    /// Parses a response head. True: parsed and consumed. False with <see cref="Http1ParseError.None"/>:
    /// need more bytes, nothing consumed. False with an error: the upstream response is invalid (502).
    /// </summary>
    public bool TryParse(ref SequenceReader<byte> input, out Http1ParseError error) => TryParseCore(ref input, isRequest: false, out error);

    /// <summary>
    /// How this response's body is delimited (RFC 9112 6.3), which depends on the request it answers:
    /// HEAD, 1xx, 204 and 304 have none; a 2xx to CONNECT opens a tunnel; then chunked,
    /// Content-Length, and otherwise the body runs until the connection closes.
    /// </summary>
    public Http1BodyFraming GetBodyFraming(RequestMethod requestMethod)
    {
        if (requestMethod == RequestMethod.Head || StatusCode < 200 || StatusCode == 204 || StatusCode == 304)
        {
            return Http1BodyFraming.None;
        }

        if (requestMethod == RequestMethod.Connect && StatusCode < 300) return Http1BodyFraming.Tunnel;

        // Rule 4: a final coding other than chunked means the body ends when the connection closes.
        if (HasTransferEncoding) return IsChunked ? Http1BodyFraming.Chunked : Http1BodyFraming.CloseDelimited;
        return ContentLength >= 0 ? Http1BodyFraming.ContentLength : Http1BodyFraming.CloseDelimited;
    }

    private protected override void ClearDerived()
    {
        StatusCode = 0;
        _reasonStart = 0;
        _reasonLength = 0;
    }

    /// <summary>status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4).</summary>
    private protected override Http1ParseError ParseStartLine(ReadOnlySpan<byte> line, int start)
    {
        if (line.Length < 12 || line[8] != (byte)' ') return Http1ParseError.InvalidStatusLine;

        Http1ParseError error = ParseVersion(line[..8], out Http1Version version);
        if (error != Http1ParseError.None) return error;

        ReadOnlySpan<byte> code = line.Slice(9, 3);
        if (code.ContainsAnyExceptInRange((byte)'0', (byte)'9') || code[0] < (byte)'1' || code[0] > (byte)'5')
        {
            return Http1ParseError.InvalidStatusLine;
        }

        // Senders must send the SP before an empty reason, but many omit it; "HTTP/1.1 200" is accepted.
        ReadOnlySpan<byte> reason = default;
        if (line.Length > 12)
        {
            if (line[12] != (byte)' ') return Http1ParseError.InvalidStatusLine;
            reason = line[13..];
            if (reason.ContainsAnyExcept(HttpCharacters.ReasonPhrase)) return Http1ParseError.InvalidStatusLine;
        }

        Version = version;
        StatusCode = ((code[0] - '0') * 100) + ((code[1] - '0') * 10) + (code[2] - '0');
        _reasonStart = start + 13;
        _reasonLength = reason.Length;
        return Http1ParseError.None;
    }

    private protected override Http1ParseError Validate()
    {
        // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means its framing is faulty, for a response as for
        // a request; the proxy cannot know where such a body ends, so the response is refused (502).
        if (HasTransferEncoding && Version == Http1Version.Http10) return Http1ParseError.TransferEncodingInHttp10;

        // A coding besides chunked: the proxy cannot re-frame that body safely (it drops the
        // hop-by-hop Transfer-Encoding), so the response is refused rather than corrupted.
        if (HasTransferEncoding && IsChunked && TransferCodingOther) return Http1ParseError.UnsupportedTransferCoding;
        return Http1ParseError.None;
    }
}
