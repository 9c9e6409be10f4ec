using System.Buffers;
using System.Buffers.Binary;

namespace Proxy.Http.Http2;

/// <summary>
/// Writes HTTP/2 frames (RFC 9113 section 6) into an <see cref="IBufferWriter{T}"/> with GetSpan, fill, Advance.
/// Stateless: the connection's single writer passes the peer's SETTINGS_MAX_FRAME_SIZE where a frame may need
/// splitting, and owns flow control (DATA is written as given).
/// </summary>
public static class Http2FrameWriter
{
    /// <summary>
    /// Writes <paramref name="data"/> as DATA frames of at most <paramref name="maxFrameSize"/> bytes; END_STREAM
    /// goes on the last one. Empty data with END_STREAM writes one empty frame.
    /// </summary>
    public static void WriteData(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> data, bool endStream, int maxFrameSize)
    {
        do
        {
            int length = Math.Min(data.Length, maxFrameSize);
            bool last = length == data.Length;
            Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
            new Http2FrameHeader(length, Http2FrameType.Data, last && endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None, streamId)
                .WriteTo(span);
            data[..length].CopyTo(span[Http2FrameHeader.Size..]);
            output.Advance(Http2FrameHeader.Size + length);
            data = data[length..];
        }
        while (!data.IsEmpty);
    }

    /// <summary>As <see cref="WriteData(IBufferWriter{byte}, int, ReadOnlySpan{byte}, bool, int)"/>, for data still in a pipe's buffers.</summary>
    public static void WriteData(IBufferWriter<byte> output, int streamId, in ReadOnlySequence<byte> data, bool endStream, int maxFrameSize)
    {
        if (data.IsSingleSegment)
        {
            WriteData(output, streamId, data.FirstSpan, endStream, maxFrameSize);
            return;
        }

        ReadOnlySequence<byte> rest = data;
        do
        {
            int length = (int)Math.Min(rest.Length, maxFrameSize);
            bool last = length == rest.Length;
            Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
            new Http2FrameHeader(length, Http2FrameType.Data, last && endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None, streamId)
                .WriteTo(span);
            rest.Slice(0, length).CopyTo(span[Http2FrameHeader.Size..]);
            output.Advance(Http2FrameHeader.Size + length);
            rest = rest.Slice(length);
        }
        while (rest.Length > 0);
    }

    /// <summary>
    /// Writes a HEADERS frame and, when <paramref name="headerBlock"/> exceeds <paramref name="maxFrameSize"/>,
    /// CONTINUATION frames (6.10); END_HEADERS goes on the last frame, END_STREAM on the HEADERS frame (6.2).
    /// </summary>
    public static void WriteHeaders(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> headerBlock, bool endStream, int maxFrameSize)
    {
        int length = Math.Min(headerBlock.Length, maxFrameSize);
        Http2FrameFlags flags = endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None;
        if (length == headerBlock.Length)
        {
            flags |= Http2FrameFlags.EndHeaders;
        }

        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
        new Http2FrameHeader(length, Http2FrameType.Headers, flags, streamId).WriteTo(span);
        headerBlock[..length].CopyTo(span[Http2FrameHeader.Size..]);
        output.Advance(Http2FrameHeader.Size + length);
        WriteContinuations(output, streamId, headerBlock[length..], maxFrameSize);
    }

    /// <summary>
    /// Writes a PUSH_PROMISE frame (6.6) for <paramref name="promisedStreamId"/>, followed by CONTINUATION frames
    /// when the block does not fit in <paramref name="maxFrameSize"/>.
    /// </summary>
    public static void WritePushPromise(IBufferWriter<byte> output, int streamId, int promisedStreamId, ReadOnlySpan<byte> headerBlock, int maxFrameSize)
    {
        int length = Math.Min(headerBlock.Length, maxFrameSize - 4);
        Http2FrameFlags flags = length == headerBlock.Length ? Http2FrameFlags.EndHeaders : Http2FrameFlags.None;
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 4 + length);
        new Http2FrameHeader(4 + length, Http2FrameType.PushPromise, flags, streamId).WriteTo(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)promisedStreamId & 0x7FFF_FFFFu);
        headerBlock[..length].CopyTo(span[(Http2FrameHeader.Size + 4)..]);
        output.Advance(Http2FrameHeader.Size + 4 + length);
        WriteContinuations(output, streamId, headerBlock[length..], maxFrameSize);
    }

    /// <summary>Writes a PRIORITY frame (6.3); only useful to test peers, since priority signals are deprecated.</summary>
    public static void WritePriority(IBufferWriter<byte> output, int streamId, int streamDependency, bool exclusive, byte weight)
    {
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 5);
        new Http2FrameHeader(5, Http2FrameType.Priority, Http2FrameFlags.None, streamId).WriteTo(span);
        uint dependency = ((uint)streamDependency & 0x7FFF_FFFFu) | (exclusive ? 0x8000_0000u : 0);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], dependency);
        span[Http2FrameHeader.Size + 4] = weight;
        output.Advance(Http2FrameHeader.Size + 5);
    }

    /// <summary>Writes a RST_STREAM frame (6.4).</summary>
    public static void WriteRstStream(IBufferWriter<byte> output, int streamId, Http2ErrorCode errorCode)
    {
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 4);
        new Http2FrameHeader(4, Http2FrameType.RstStream, Http2FrameFlags.None, streamId).WriteTo(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)errorCode);
        output.Advance(Http2FrameHeader.Size + 4);
    }

    /// <summary>Writes a SETTINGS frame (6.5) with the given parameters, in order.</summary>
    public static void WriteSettings(IBufferWriter<byte> output, ReadOnlySpan<Http2Setting> settings)
    {
        int length = settings.Length * Http2Setting.Size;
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
        new Http2FrameHeader(length, Http2FrameType.Settings, Http2FrameFlags.None, 0).WriteTo(span);
        Span<byte> body = span[Http2FrameHeader.Size..];
        foreach (Http2Setting setting in settings)
        {
            BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)setting.Parameter);
            BinaryPrimitives.WriteUInt32BigEndian(body[2..], setting.Value);
            body = body[Http2Setting.Size..];
        }

        output.Advance(Http2FrameHeader.Size + length);
    }

    /// <summary>Writes a SETTINGS frame carrying the values of <paramref name="settings"/> that differ from the defaults.</summary>
    public static void WriteSettings(IBufferWriter<byte> output, Http2Settings settings)
    {
        Span<Http2Setting> values = stackalloc Http2Setting[6];
        int count = settings.GetNonDefault(values);
        WriteSettings(output, values[..count]);
    }

    /// <summary>Writes the empty SETTINGS frame with ACK (6.5.3).</summary>
    public static void WriteSettingsAck(IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size);
        new Http2FrameHeader(0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0).WriteTo(span);
        output.Advance(Http2FrameHeader.Size);
    }

    /// <summary>Writes a PING frame (6.7); an ACK echoes the received <paramref name="data"/>.</summary>
    public static void WritePing(IBufferWriter<byte> output, ulong data, bool ack)
    {
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 8);
        new Http2FrameHeader(8, Http2FrameType.Ping, ack ? Http2FrameFlags.Ack : Http2FrameFlags.None, 0).WriteTo(span);
        BinaryPrimitives.WriteUInt64BigEndian(span[Http2FrameHeader.Size..], data);
        output.Advance(Http2FrameHeader.Size + 8);
    }

    /// <summary>Writes a GOAWAY frame (6.8) with the last processed stream, the code and optional debug data.</summary>
    public static void WriteGoAway(IBufferWriter<byte> output, int lastStreamId, Http2ErrorCode errorCode, ReadOnlySpan<byte> debugData = default)
    {
        int length = 8 + debugData.Length;
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
        new Http2FrameHeader(length, Http2FrameType.GoAway, Http2FrameFlags.None, 0).WriteTo(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)lastStreamId & 0x7FFF_FFFFu);
        BinaryPrimitives.WriteUInt32BigEndian(span[(Http2FrameHeader.Size + 4)..], (uint)errorCode);
        debugData.CopyTo(span[(Http2FrameHeader.Size + 8)..]);
        output.Advance(Http2FrameHeader.Size + length);
    }

    /// <summary>Writes a WINDOW_UPDATE frame (6.9) for a stream, or for the connection with stream 0.</summary>
    public static void WriteWindowUpdate(IBufferWriter<byte> output, int streamId, int increment)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(increment);
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 4);
        new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, streamId).WriteTo(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)increment);
        output.Advance(Http2FrameHeader.Size + 4);
    }

    private static void WriteContinuations(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> rest, int maxFrameSize)
    {
        while (!rest.IsEmpty)
        {
            int length = Math.Min(rest.Length, maxFrameSize);
            Http2FrameFlags flags = length == rest.Length ? Http2FrameFlags.EndHeaders : Http2FrameFlags.None;
            Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
            new Http2FrameHeader(length, Http2FrameType.Continuation, flags, streamId).WriteTo(span);
            rest[..length].CopyTo(span[Http2FrameHeader.Size..]);
            output.Advance(Http2FrameHeader.Size + length);
            rest = rest[length..];
        }
    }
}
