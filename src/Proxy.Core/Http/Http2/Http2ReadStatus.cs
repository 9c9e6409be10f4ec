namespace Proxy.Http.Http2;

/// <summary>Outcome of <see cref="Http2FrameReader.TryReadFrame"/>.</summary>
public enum Http2ReadStatus
{
    /// <summary>Not a whole frame yet; nothing was consumed.</summary>
    NeedMoreData,

    /// <summary>A valid frame was read and consumed (it may be of an unknown type, to be ignored).</summary>
    Frame,

    /// <summary>
    /// The frame is invalid for its stream only (RST_STREAM with the error's code). It was consumed and the frame is
    /// still returned, so a HEADERS block can be decoded to keep HPACK in sync; the connection goes on.
    /// </summary>
    StreamError,

    /// <summary>The connection must end with GOAWAY carrying the error's code. Nothing more should be read.</summary>
    ConnectionError,
}
