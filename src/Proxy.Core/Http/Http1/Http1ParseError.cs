namespace Proxy.Http.Http1;

/// <summary>
/// Why an HTTP/1.1 message was rejected. Each smuggling defence has its own value so the access
/// log can say exactly what was wrong; <see cref="Http1ParseErrors.ToStatusCode"/> maps a value to
/// the status the proxy answers a bad request with. Any error in an upstream response becomes 502.
/// </summary>
public enum Http1ParseError : byte
{
    /// <summary>No error.</summary>
    None = 0,

    // Start line (RFC 9112 section 3 and 4).
    /// <summary>Request line is not "method SP request-target SP HTTP-version".</summary>
    InvalidRequestLine,
    /// <summary>The method is not a token.</summary>
    InvalidMethod,
    /// <summary>The target has bytes outside VCHAR or does not fit the form its method requires (RFC 9112 3.2).</summary>
    InvalidRequestTarget,
    /// <summary>The target is longer than <see cref="Http1Limits.MaxRequestTargetLength"/> (414).</summary>
    RequestTargetTooLong,
    /// <summary>The version is not "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3).</summary>
    InvalidVersion,
    /// <summary>A well-formed version whose major number is not 1 (505).</summary>
    UnsupportedVersion,
    /// <summary>Status line is not "HTTP-version SP 3DIGIT SP reason-phrase" (RFC 9112 4).</summary>
    InvalidStatusLine,
    /// <summary>The status line is longer than the start-line limit.</summary>
    StartLineTooLong,

    // Field lines (RFC 9112 section 5, RFC 9110 section 5).
    /// <summary>A line ends in LF without CR (RFC 9112 2.2: we never accept bare LF).</summary>
    BareLineFeed,
    /// <summary>The header section exceeds <see cref="Http1Limits.MaxHeaderBytes"/> (431).</summary>
    HeadersTooLarge,
    /// <summary>More field lines than <see cref="Http1Limits.MaxHeaderCount"/> (431).</summary>
    TooManyHeaders,
    /// <summary>A field line without a colon.</summary>
    InvalidHeaderLine,
    /// <summary>An empty field name or one with a byte that is not a tchar.</summary>
    InvalidHeaderName,
    /// <summary>Whitespace between the field name and the colon (RFC 9112 5.1 requires 400).</summary>
    WhitespaceBeforeColon,
    /// <summary>A line starting with whitespace: obs-fold, or whitespace after the start line (RFC 9112 5.2, 2.2).</summary>
    ObsoleteLineFolding,
    /// <summary>A field value containing NUL, CR, LF or another control byte (RFC 9110 5.5).</summary>
    InvalidHeaderValue,

    // Request semantics.
    /// <summary>An HTTP/1.1 request without Host (RFC 9112 3.2).</summary>
    MissingHost,
    /// <summary>More than one Host field line (RFC 9112 3.2).</summary>
    MultipleHost,
    /// <summary>A Host value that is not a valid uri-host [":" port].</summary>
    InvalidHost,

    // Framing (RFC 9112 section 6).
    /// <summary>An empty, non-numeric or overflowing Content-Length.</summary>
    InvalidContentLength,
    /// <summary>Several Content-Length values that differ (RFC 9110 8.6).</summary>
    ConflictingContentLength,
    /// <summary>Both Content-Length and Transfer-Encoding (RFC 9112 6.3 rule 3: treat as an error).</summary>
    ContentLengthWithTransferEncoding,
    /// <summary>Transfer-Encoding empty, "chunked" not last, or chunked applied twice (RFC 9112 6.3, 7).</summary>
    InvalidTransferEncoding,
    /// <summary>A transfer coding other than chunked, which the proxy does not decode (501 for requests).</summary>
    UnsupportedTransferCoding,
    /// <summary>Transfer-Encoding in an HTTP/1.0 request or response: framing is faulty (RFC 9112 6.1).</summary>
    TransferEncodingInHttp10,

    // Chunked body (RFC 9112 section 7.1).
    /// <summary>A chunk-size that is missing or not hexadecimal.</summary>
    InvalidChunkSize,
    /// <summary>A chunk-size too large for a signed 64-bit length.</summary>
    ChunkSizeOverflow,
    /// <summary>A chunk extension that is not ";" token ["=" (token / quoted-string)].</summary>
    InvalidChunkExtension,
    /// <summary>A chunk-size line longer than <see cref="Http1Limits.MaxChunkLineLength"/>.</summary>
    ChunkLineTooLong,
    /// <summary>Chunk data not followed by CRLF, or a chunk-size line ended by CR without LF.</summary>
    InvalidChunkLineEnding,
    /// <summary>The trailer section exceeds <see cref="Http1Limits.MaxTrailerBytes"/>.</summary>
    TrailersTooLarge,
}
