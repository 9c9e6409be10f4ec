using System.Buffers;

namespace Proxy.Http.Http2;

/// <summary>
/// A validated frame returned by <see cref="Http2FrameReader"/>: the header, the type's fixed fields and the
/// payload proper (padding and fixed fields stripped). The payload slices the reader's input, so it is only
/// valid until that input is advanced past.
/// </summary>
public readonly struct Http2Frame
{
    private readonly uint _value;      // error code (RST_STREAM, GOAWAY) or window increment (WINDOW_UPDATE)
    private readonly int _streamField; // last stream id (GOAWAY) or promised stream id (PUSH_PROMISE)
    private readonly ulong _ping;

    internal Http2Frame(
        Http2FrameHeader header,
        ReadOnlySequence<byte> payload,
        int padLength = 0,
        uint value = 0,
        int streamField = 0,
        ulong ping = 0)
    {
        Header = header;
        Payload = payload;
        PadLength = padLength;
        _value = value;
        _streamField = streamField;
        _ping = ping;
    }

    /// <summary>The 9-byte header as received.</summary>
    public Http2FrameHeader Header { get; }

    /// <summary>
    /// DATA: the data. HEADERS, PUSH_PROMISE, CONTINUATION: the field block fragment. SETTINGS: the parameters.
    /// GOAWAY: the debug data. PING: the 8 opaque bytes. Unknown types: the raw payload. Otherwise empty.
    /// </summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>Bytes of padding (PADDED flag); DATA flow control counts them (RFC 9113 6.9.1), use <see cref="FlowControlledLength"/>.</summary>
    public int PadLength { get; }

    /// <summary>Frame type.</summary>
    public Http2FrameType Type => Header.Type;

    /// <summary>Stream identifier.</summary>
    public int StreamId => Header.StreamId;

    /// <summary>Frame flags.</summary>
    public Http2FrameFlags Flags => Header.Flags;

    /// <summary>False for extension frame types, which the receiver ignores (RFC 9113 5.5).</summary>
    public bool IsKnownType => (byte)Header.Type <= (byte)Http2FrameType.Continuation;

    /// <summary>DATA, HEADERS: END_STREAM is set.</summary>
    public bool EndStream => (Header.Flags & Http2FrameFlags.EndStream) != 0 &&
        Header.Type is Http2FrameType.Data or Http2FrameType.Headers;

    /// <summary>HEADERS, PUSH_PROMISE, CONTINUATION: END_HEADERS is set.</summary>
    public bool EndHeaders => (Header.Flags & Http2FrameFlags.EndHeaders) != 0;

    /// <summary>SETTINGS, PING: ACK is set.</summary>
    public bool IsAck => (Header.Flags & Http2FrameFlags.Ack) != 0 &&
        Header.Type is Http2FrameType.Settings or Http2FrameType.Ping;

    /// <summary>DATA: the whole payload length, padding included, which is what flow control counts.</summary>
    public int FlowControlledLength => Header.Length;

    /// <summary>RST_STREAM, GOAWAY: the error code.</summary>
    public Http2ErrorCode ErrorCode => (Http2ErrorCode)_value;

    /// <summary>WINDOW_UPDATE: the increment (1..2^31-1).</summary>
    public int WindowSizeIncrement => (int)_value;

    /// <summary>GOAWAY: the last stream identifier the sender may have processed.</summary>
    public int LastStreamId => _streamField;

    /// <summary>PUSH_PROMISE: the promised stream identifier.</summary>
    public int PromisedStreamId => _streamField;

    /// <summary>PING: the opaque data as a big-endian number, to echo back in the ACK.</summary>
    public ulong PingData => _ping;
}
