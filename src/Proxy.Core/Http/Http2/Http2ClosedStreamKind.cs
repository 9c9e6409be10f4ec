namespace Proxy.Http.Http2;

/// <summary>
/// What a frame on a stream that has left the connection's table finds there (RFC 9113 5.1, 5.1.1), which decides
/// the answer: a connection error, a stream error, or nothing.
/// </summary>
public enum Http2ClosedStreamKind
{
    /// <summary>
    /// Closed by END_STREAM both ways or by the peer's RST_STREAM: the peer cannot have a frame for it in flight, so
    /// DATA or HEADERS on it is a connection error of type STREAM_CLOSED (5.1 "closed", 6.1).
    /// </summary>
    Closed,

    /// <summary>
    /// This side reset it a short while ago: frames the peer sent before our RST_STREAM reached it are ignored (5.1:
    /// "An endpoint MUST ignore frames that it receives on closed streams after it has sent a RST_STREAM frame").
    /// </summary>
    ResetHere,

    /// <summary>
    /// A peer-initiated identifier the peer skipped (implicitly closed by a higher one, 5.1.1): a HEADERS frame
    /// opening it is a connection error of type PROTOCOL_ERROR.
    /// </summary>
    NeverOpened,

    /// <summary>
    /// Cannot tell: more streams were reset lately than are remembered, or the stream was opened after our GOAWAY
    /// (6.8 lets us discard its frames). Ignored, as before: a wrong connection error would cost every other stream.
    /// </summary>
    Unknown,
}
