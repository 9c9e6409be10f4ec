namespace Proxy.Http.Http2;

/// <summary>The stream states of RFC 9113 section 5.1 that a live stream object can be in (idle streams have no object).</summary>
public enum Http2StreamState
{
    /// <summary>Both sides may send frames.</summary>
    Open,

    /// <summary>This side sent END_STREAM; the peer may still send.</summary>
    HalfClosedLocal,

    /// <summary>The peer sent END_STREAM; this side may still send.</summary>
    HalfClosedRemote,

    /// <summary>Both sides ended or a RST_STREAM was sent or received.</summary>
    Closed,
}
