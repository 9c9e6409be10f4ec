namespace Proxy.Http.Http2;

/// <summary>Frame flags of RFC 9113 section 6; the meaning of a bit depends on the frame type.</summary>
[Flags]
public enum Http2FrameFlags : byte
{
    /// <summary>No flag set.</summary>
    None = 0x0,

    /// <summary>DATA, HEADERS: last frame the sender will send on the stream.</summary>
    EndStream = 0x1,

    /// <summary>SETTINGS, PING: acknowledgement (same bit as END_STREAM).</summary>
    Ack = 0x1,

    /// <summary>HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends here.</summary>
    EndHeaders = 0x4,

    /// <summary>DATA, HEADERS, PUSH_PROMISE: a pad length byte and padding are present.</summary>
    Padded = 0x8,

    /// <summary>HEADERS: exclusive flag, stream dependency and weight are present.</summary>
    Priority = 0x20,
}
