namespace Proxy.Http.Http2.HPack;

/// <summary>Outcome of decoding one header block.</summary>
public enum HPackDecodeStatus
{
    /// <summary>The whole block was decoded and every field delivered.</summary>
    Success,

    /// <summary>
    /// The block is malformed: a connection error of type COMPRESSION_ERROR (RFC 9113 4.3), since the
    /// dynamic table can no longer be trusted.
    /// </summary>
    CompressionError,

    /// <summary>
    /// The decoded header list exceeds the configured limit (RFC 9113 6.5.2, sizes of name + value + 32). The block
    /// was still decoded to the end so the dynamic table stays in sync; fields past the limit were not delivered.
    /// This is a stream-level failure (431 or RST_STREAM), not a connection error.
    /// </summary>
    HeaderListTooLarge,
}
