namespace Proxy.Http.Http2;

/// <summary>The error codes of RFC 9113 section 7, carried by RST_STREAM and GOAWAY.</summary>
public enum Http2ErrorCode : uint
{
    /// <summary>Graceful shutdown, no error.</summary>
    NoError = 0x0,

    /// <summary>A generic protocol violation.</summary>
    ProtocolError = 0x1,

    /// <summary>An unexpected internal error.</summary>
    InternalError = 0x2,

    /// <summary>The peer violated flow control.</summary>
    FlowControlError = 0x3,

    /// <summary>SETTINGS were not acknowledged in time.</summary>
    SettingsTimeout = 0x4,

    /// <summary>A frame arrived on a half-closed stream.</summary>
    StreamClosed = 0x5,

    /// <summary>A frame has an invalid size.</summary>
    FrameSizeError = 0x6,

    /// <summary>The stream was refused before any processing; safe to retry.</summary>
    RefusedStream = 0x7,

    /// <summary>The stream is no longer needed.</summary>
    Cancel = 0x8,

    /// <summary>The HPACK state cannot be maintained.</summary>
    CompressionError = 0x9,

    /// <summary>A CONNECT tunnel was reset or closed abnormally.</summary>
    ConnectError = 0xa,

    /// <summary>The peer is generating excessive load.</summary>
    EnhanceYourCalm = 0xb,

    /// <summary>The transport's security properties are insufficient.</summary>
    InadequateSecurity = 0xc,

    /// <summary>HTTP/1.1 must be used instead.</summary>
    Http11Required = 0xd,
}
