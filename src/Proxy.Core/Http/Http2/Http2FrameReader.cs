using System.Buffers;
using System.Buffers.Binary;

namespace Proxy.Http.Http2;

/// <summary>
/// Reads and validates HTTP/2 frames (RFC 9113 sections 4 and 6) from a byte sequence. Used by both the
/// downstream (server) and upstream (client) sides; one instance per connection, driven by its read loop.
/// </summary>
/// <remarks>
/// The reader keeps two pieces of state: the largest payload this side accepts (its SETTINGS_MAX_FRAME_SIZE) and
/// whether a field block is open, because CONTINUATION frames must follow HEADERS or PUSH_PROMISE on the same
/// stream with nothing in between (6.10). Rules that need stream states or the side (who may push, which stream
/// ids are valid) belong to the connection.
/// </remarks>
public sealed class Http2FrameReader
{
    private int _maxFrameSize = Http2Settings.DefaultMaxFrameSize;
    private int _continuationStreamId;

    /// <summary>SETTINGS_MAX_FRAME_SIZE of this side: longer frames are a FRAME_SIZE_ERROR (4.2).</summary>
    public int MaxFrameSize
    {
        get => _maxFrameSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, Http2Settings.DefaultMaxFrameSize);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Http2Settings.MaxAllowedFrameSize);
            _maxFrameSize = value;
        }
    }

    /// <summary>The stream whose field block awaits CONTINUATION frames, or 0.</summary>
    public int ExpectedContinuationStreamId => _continuationStreamId;

    /// <summary>
    /// Reads one frame at the reader's position. <see cref="Http2ReadStatus.NeedMoreData"/> consumes nothing;
    /// <see cref="Http2ReadStatus.Frame"/> and <see cref="Http2ReadStatus.StreamError"/> consume the frame;
    /// <see cref="Http2ReadStatus.ConnectionError"/> consumes nothing and <paramref name="error"/> says why.
    /// </summary>
    public Http2ReadStatus TryReadFrame(ref SequenceReader<byte> input, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        error = default;
        Http2FrameHeader header;
        ReadOnlySpan<byte> unread = input.UnreadSpan;
        if (unread.Length >= Http2FrameHeader.Size)
        {
            header = Http2FrameHeader.Read(unread);
        }
        else
        {
            Span<byte> headerBytes = stackalloc byte[Http2FrameHeader.Size];
            if (!input.TryCopyTo(headerBytes))
            {
                return Http2ReadStatus.NeedMoreData;
            }

            header = Http2FrameHeader.Read(headerBytes);
        }

        // 4.2: checked on the header alone, so an oversized frame is refused before it is buffered.
        if (header.Length > _maxFrameSize)
        {
            return Connection(out error, Http2ErrorCode.FrameSizeError, header, "frame larger than SETTINGS_MAX_FRAME_SIZE");
        }

        if (input.Remaining - Http2FrameHeader.Size < header.Length)
        {
            return Http2ReadStatus.NeedMoreData;
        }

        // 6.10: while a field block is open only CONTINUATION on its stream may arrive; otherwise none may.
        if (_continuationStreamId != 0)
        {
            if (header.Type != Http2FrameType.Continuation || header.StreamId != _continuationStreamId)
            {
                return Connection(out error, Http2ErrorCode.ProtocolError, header, "expected CONTINUATION of the open field block");
            }
        }
        else if (header.Type == Http2FrameType.Continuation)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "CONTINUATION without an open field block");
        }

        ReadOnlySequence<byte> payload = input.UnreadSequence.Slice(Http2FrameHeader.Size, header.Length);
        Http2ReadStatus status = header.Type switch
        {
            Http2FrameType.Data => ReadData(header, payload, out frame, out error),
            Http2FrameType.Headers => ReadHeaders(header, payload, out frame, out error),
            Http2FrameType.Priority => ReadPriority(header, payload, out frame, out error),
            Http2FrameType.RstStream => ReadRstStream(header, payload, out frame, out error),
            Http2FrameType.Settings => ReadSettings(header, payload, out frame, out error),
            Http2FrameType.PushPromise => ReadPushPromise(header, payload, out frame, out error),
            Http2FrameType.Ping => ReadPing(header, payload, out frame, out error),
            Http2FrameType.GoAway => ReadGoAway(header, payload, out frame, out error),
            Http2FrameType.WindowUpdate => ReadWindowUpdate(header, payload, out frame, out error),
            Http2FrameType.Continuation => Ok(out frame, out error, new Http2Frame(header, payload)),

            // 5.5: unknown types are ignored; the caller sees IsKnownType == false.
            _ => Ok(out frame, out error, new Http2Frame(header, payload)),
        };

        if (status == Http2ReadStatus.ConnectionError)
        {
            return status;
        }

        input.Advance(Http2FrameHeader.Size + header.Length);
        if (header.Type is Http2FrameType.Headers or Http2FrameType.PushPromise or Http2FrameType.Continuation)
        {
            _continuationStreamId = header.HasFlag(Http2FrameFlags.EndHeaders) ? 0 : header.StreamId;
        }

        return status;
    }

    /// <summary>Forgets an open field block (for a reader reused on a new connection).</summary>
    public void Reset()
    {
        _continuationStreamId = 0;
        _maxFrameSize = Http2Settings.DefaultMaxFrameSize;
    }

    // +---------------+
    // |Pad Length? (8)|
    // +---------------+-----------------------------------------------+
    // |                            Data (*)                         ...
    // +---------------------------------------------------------------+
    // |                           Padding (*)                       ...
    // +---------------------------------------------------------------+      RFC 9113 6.1
    private static Http2ReadStatus ReadData(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId == 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "DATA on stream 0");
        }

        if (!TryStripPadding(header, payload, 0, out _, out ReadOnlySequence<byte> data, out int padLength, out error))
        {
            return Http2ReadStatus.ConnectionError;
        }

        return Ok(out frame, out error, new Http2Frame(header, data, padLength));
    }

    // +---------------+
    // |Pad Length? (8)|
    // +-+-------------+-----------------------------------------------+
    // |E|                 Stream Dependency? (31)                     |
    // +-+-------------+-----------------------------------------------+
    // |  Weight? (8)  |
    // +-+-------------+-----------------------------------------------+
    // |                   Field Block Fragment (*)                  ...
    // +---------------------------------------------------------------+
    // |                           Padding (*)                       ...
    // +---------------------------------------------------------------+      RFC 9113 6.2
    private static Http2ReadStatus ReadHeaders(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId == 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "HEADERS on stream 0");
        }

        bool hasPriority = header.HasFlag(Http2FrameFlags.Priority);
        if (!TryStripPadding(header, payload, hasPriority ? 5 : 0, out int offset, out ReadOnlySequence<byte> fragment, out int padLength, out error))
        {
            return Http2ReadStatus.ConnectionError;
        }

        frame = new Http2Frame(header, fragment, padLength);

        // 5.3.1: a stream cannot depend on itself. Priority is otherwise ignored (RFC 9113 deprecates it).
        if (hasPriority && (ReadUInt32(payload, offset) & 0x7FFF_FFFFu) == (uint)header.StreamId)
        {
            error = new Http2FrameError(Http2ErrorCode.ProtocolError, false, header.StreamId, "stream depends on itself");
            return Http2ReadStatus.StreamError;
        }

        return Http2ReadStatus.Frame;
    }

    // |E|                  Stream Dependency (31)                     |
    // |   Weight (8)  |                                                      RFC 9113 6.3
    private static Http2ReadStatus ReadPriority(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId == 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "PRIORITY on stream 0");
        }

        frame = new Http2Frame(header, ReadOnlySequence<byte>.Empty);
        if (header.Length != 5)
        {
            return Stream(out error, Http2ErrorCode.FrameSizeError, header, "PRIORITY length is not 5");
        }

        if ((ReadUInt32(payload, 0) & 0x7FFF_FFFFu) == (uint)header.StreamId)
        {
            return Stream(out error, Http2ErrorCode.ProtocolError, header, "stream depends on itself");
        }

        error = default;
        return Http2ReadStatus.Frame;
    }

    // |                        Error Code (32)                        |      RFC 9113 6.4
    private static Http2ReadStatus ReadRstStream(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId == 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "RST_STREAM on stream 0");
        }

        if (header.Length != 4)
        {
            return Connection(out error, Http2ErrorCode.FrameSizeError, header, "RST_STREAM length is not 4");
        }

        return Ok(out frame, out error, new Http2Frame(header, ReadOnlySequence<byte>.Empty, value: ReadUInt32(payload, 0)));
    }

    // +-------------------------------+
    // |       Identifier (16)         |
    // +-------------------------------+-------------------------------+
    // |                        Value (32)                             |
    // +---------------------------------------------------------------+      RFC 9113 6.5.1, repeated
    private static Http2ReadStatus ReadSettings(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId != 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "SETTINGS on a stream");
        }

        if (header.HasFlag(Http2FrameFlags.Ack))
        {
            if (header.Length != 0)
            {
                return Connection(out error, Http2ErrorCode.FrameSizeError, header, "SETTINGS ACK with a payload");
            }
        }
        else if (header.Length % Http2Setting.Size != 0)
        {
            return Connection(out error, Http2ErrorCode.FrameSizeError, header, "SETTINGS length is not a multiple of 6");
        }

        // Validate every value now (6.5.2), so applying them later cannot fail halfway.
        var reader = new SequenceReader<byte>(payload);
        while (reader.TryReadBigEndian(out short id) && reader.TryReadBigEndian(out int value))
        {
            Http2ErrorCode code = Http2Settings.Validate((Http2SettingsParameter)(ushort)id, (uint)value);
            if (code != Http2ErrorCode.NoError)
            {
                return Connection(out error, code, header, "invalid SETTINGS value");
            }
        }

        return Ok(out frame, out error, new Http2Frame(header, payload));
    }

    // |Pad Length? (8)|
    // |R|                  Promised Stream ID (31)                    |
    // |                   Field Block Fragment (*)                  ...
    // |                           Padding (*)                       ...      RFC 9113 6.6
    private static Http2ReadStatus ReadPushPromise(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId == 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "PUSH_PROMISE on stream 0");
        }

        if (!TryStripPadding(header, payload, 4, out int offset, out ReadOnlySequence<byte> fragment, out int padLength, out error))
        {
            return Http2ReadStatus.ConnectionError;
        }

        int promised = (int)(ReadUInt32(payload, offset) & 0x7FFF_FFFFu);
        return Ok(out frame, out error, new Http2Frame(header, fragment, padLength, streamField: promised));
    }

    // |                      Opaque Data (64)                         |      RFC 9113 6.7
    private static Http2ReadStatus ReadPing(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId != 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "PING on a stream");
        }

        if (header.Length != 8)
        {
            return Connection(out error, Http2ErrorCode.FrameSizeError, header, "PING length is not 8");
        }

        ulong data = ((ulong)ReadUInt32(payload, 0) << 32) | ReadUInt32(payload, 4);
        return Ok(out frame, out error, new Http2Frame(header, payload, ping: data));
    }

    // |R|                  Last-Stream-ID (31)                        |
    // |                      Error Code (32)                          |
    // |                  Additional Debug Data (*)                    |      RFC 9113 6.8
    private static Http2ReadStatus ReadGoAway(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.StreamId != 0)
        {
            return Connection(out error, Http2ErrorCode.ProtocolError, header, "GOAWAY on a stream");
        }

        if (header.Length < 8)
        {
            return Connection(out error, Http2ErrorCode.FrameSizeError, header, "GOAWAY shorter than 8 bytes");
        }

        int lastStreamId = (int)(ReadUInt32(payload, 0) & 0x7FFF_FFFFu);
        return Ok(out frame, out error, new Http2Frame(header, payload.Slice(8), value: ReadUInt32(payload, 4), streamField: lastStreamId));
    }

    // |R|              Window Size Increment (31)                     |      RFC 9113 6.9
    private static Http2ReadStatus ReadWindowUpdate(Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2Frame frame, out Http2FrameError error)
    {
        frame = default;
        if (header.Length != 4)
        {
            return Connection(out error, Http2ErrorCode.FrameSizeError, header, "WINDOW_UPDATE length is not 4");
        }

        uint increment = ReadUInt32(payload, 0) & 0x7FFF_FFFFu;
        frame = new Http2Frame(header, ReadOnlySequence<byte>.Empty, value: increment);
        if (increment == 0)
        {
            // 6.9: a stream error on a stream, a connection error on the connection window.
            return header.StreamId == 0
                ? Connection(out error, Http2ErrorCode.ProtocolError, header, "WINDOW_UPDATE with a zero increment")
                : Stream(out error, Http2ErrorCode.ProtocolError, header, "WINDOW_UPDATE with a zero increment");
        }

        error = default;
        return Http2ReadStatus.Frame;
    }

    /// <summary>
    /// Splits a payload that may carry PADDED (a pad length byte first, padding last) and
    /// <paramref name="fixedLength"/> bytes of fixed fields. <paramref name="fixedOffset"/> is where those start.
    /// </summary>
    private static bool TryStripPadding(
        Http2FrameHeader header,
        in ReadOnlySequence<byte> payload,
        int fixedLength,
        out int fixedOffset,
        out ReadOnlySequence<byte> content,
        out int padLength,
        out Http2FrameError error)
    {
        content = default;
        padLength = 0;
        fixedOffset = 0;
        if (header.HasFlag(Http2FrameFlags.Padded))
        {
            if (header.Length < 1)
            {
                Connection(out error, Http2ErrorCode.FrameSizeError, header, "PADDED frame without a pad length");
                return false;
            }

            padLength = ReadByte(payload, 0);
            fixedOffset = 1;
        }

        int available = header.Length - fixedOffset - fixedLength;
        if (available < 0)
        {
            Connection(out error, Http2ErrorCode.FrameSizeError, header, "frame too short for its fixed fields");
            return false;
        }

        if (padLength > available)
        {
            // 6.1, 6.2, 6.6: padding as long as the payload or longer.
            Connection(out error, Http2ErrorCode.ProtocolError, header, "padding exceeds the payload");
            return false;
        }

        content = payload.Slice(fixedOffset + fixedLength, available - padLength);
        error = default;
        return true;
    }

    private static Http2ReadStatus Ok(out Http2Frame frame, out Http2FrameError error, Http2Frame value)
    {
        frame = value;
        error = default;
        return Http2ReadStatus.Frame;
    }

    private static Http2ReadStatus Connection(out Http2FrameError error, Http2ErrorCode code, Http2FrameHeader header, string reason)
    {
        error = new Http2FrameError(code, true, header.StreamId, reason);
        return Http2ReadStatus.ConnectionError;
    }

    private static Http2ReadStatus Stream(out Http2FrameError error, Http2ErrorCode code, Http2FrameHeader header, string reason)
    {
        error = new Http2FrameError(code, false, header.StreamId, reason);
        return Http2ReadStatus.StreamError;
    }

    private static byte ReadByte(in ReadOnlySequence<byte> payload, int offset)
    {
        ReadOnlySpan<byte> first = payload.FirstSpan;
        if ((uint)offset < (uint)first.Length)
        {
            return first[offset];
        }

        Span<byte> one = stackalloc byte[1];
        payload.Slice(offset, 1).CopyTo(one);
        return one[0];
    }

    private static uint ReadUInt32(in ReadOnlySequence<byte> payload, int offset)
    {
        ReadOnlySpan<byte> first = payload.FirstSpan;
        if (first.Length >= offset + 4)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(first[offset..]);
        }

        Span<byte> four = stackalloc byte[4];
        payload.Slice(offset, 4).CopyTo(four);
        return BinaryPrimitives.ReadUInt32BigEndian(four);
    }
}
