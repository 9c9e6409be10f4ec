namespace Proxy.Http.Http1;

/// <summary>Maps <see cref="Http1ParseError"/> to the status the proxy answers with and to a response flag.</summary>
public static class Http1ParseErrors
{
    /// <summary>
    /// The status for a downstream request that failed to parse: 414 and 431 for the size limits,
    /// 501 for transfer codings we do not implement, 505 for other major versions, else 400.
    /// Errors in upstream responses are always answered with 502 by the caller.
    /// </summary>
    public static int ToStatusCode(this Http1ParseError error) => error switch
    {
        Http1ParseError.None => 200,
        Http1ParseError.RequestTargetTooLong => 414,
        Http1ParseError.HeadersTooLarge or Http1ParseError.TooManyHeaders => 431,
        Http1ParseError.UnsupportedTransferCoding => 501,
        Http1ParseError.UnsupportedVersion => 505,
        _ => 400,
    };

    /// <summary>A short kebab-case name for the x-proxy-error header and the access log.</summary>
    public static ReadOnlySpan<byte> ToFlag(this Http1ParseError error) => error switch
    {
        Http1ParseError.None => default,
        Http1ParseError.InvalidRequestLine => "invalid-request-line"u8,
        Http1ParseError.InvalidMethod => "invalid-method"u8,
        Http1ParseError.InvalidRequestTarget => "invalid-request-target"u8,
        Http1ParseError.RequestTargetTooLong => "request-target-too-long"u8,
        Http1ParseError.InvalidVersion => "invalid-version"u8,
        Http1ParseError.UnsupportedVersion => "unsupported-version"u8,
        Http1ParseError.InvalidStatusLine => "invalid-status-line"u8,
        Http1ParseError.StartLineTooLong => "start-line-too-long"u8,
        Http1ParseError.BareLineFeed => "bare-line-feed"u8,
        Http1ParseError.HeadersTooLarge => "headers-too-large"u8,
        Http1ParseError.TooManyHeaders => "too-many-headers"u8,
        Http1ParseError.InvalidHeaderLine => "invalid-header-line"u8,
        Http1ParseError.InvalidHeaderName => "invalid-header-name"u8,
        Http1ParseError.WhitespaceBeforeColon => "whitespace-before-colon"u8,
        Http1ParseError.ObsoleteLineFolding => "obs-fold"u8,
        Http1ParseError.InvalidHeaderValue => "invalid-header-value"u8,
        Http1ParseError.MissingHost => "missing-host"u8,
        Http1ParseError.MultipleHost => "multiple-host"u8,
        Http1ParseError.InvalidHost => "invalid-host"u8,
        Http1ParseError.InvalidContentLength => "invalid-content-length"u8,
        Http1ParseError.ConflictingContentLength => "conflicting-content-length"u8,
        Http1ParseError.ContentLengthWithTransferEncoding => "content-length-with-transfer-encoding"u8,
        Http1ParseError.InvalidTransferEncoding => "invalid-transfer-encoding"u8,
        Http1ParseError.UnsupportedTransferCoding => "unsupported-transfer-coding"u8,
        Http1ParseError.TransferEncodingInHttp10 => "transfer-encoding-in-http10"u8,
        Http1ParseError.InvalidChunkSize => "invalid-chunk-size"u8,
        Http1ParseError.ChunkSizeOverflow => "chunk-size-overflow"u8,
        Http1ParseError.InvalidChunkExtension => "invalid-chunk-extension"u8,
        Http1ParseError.ChunkLineTooLong => "chunk-line-too-long"u8,
        Http1ParseError.InvalidChunkLineEnding => "invalid-chunk-line-ending"u8,
        Http1ParseError.TrailersTooLarge => "trailers-too-large"u8,
        _ => "http1-protocol-error"u8,
    };
}
