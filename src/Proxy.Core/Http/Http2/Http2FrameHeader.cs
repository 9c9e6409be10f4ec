using System.Buffers.Binary;

namespace Proxy.Http.Http2;

/// <summary>The 9-byte header every HTTP/2 frame starts with (RFC 9113 section 4.1).</summary>
/// <remarks>
/// <code>
/// +-----------------------------------------------+
/// |                 Length (24)                   |
/// +---------------+---------------+---------------+
/// |   Type (8)    |   Flags (8)   |
/// +-+-------------+---------------+-------------------------------+
/// |R|                 Stream Identifier (31)                      |
/// +=+=============================================================+
/// |                   Frame Payload (0...)                      ...
/// +---------------------------------------------------------------+
/// </code>
/// The reserved bit R is ignored on receipt and sent as zero.
/// </remarks>
public readonly struct Http2FrameHeader
{
    /// <summary>Size of the header on the wire.</summary>
    public const int Size = 9;

    /// <summary>Largest payload length the 24-bit field can express.</summary>
    public const int MaxLength = (1 << 24) - 1;

    public Http2FrameHeader(int length, Http2FrameType type, Http2FrameFlags flags, int streamId)
    {
        Length = length;
        Type = type;
        Flags = flags;
        StreamId = streamId;
    }

    /// <summary>Payload length in bytes (not counting these 9).</summary>
    public int Length { get; }

    /// <summary>Frame type; may be a value outside <see cref="Http2FrameType"/> for extension frames.</summary>
    public Http2FrameType Type { get; }

    /// <summary>Type-specific flags.</summary>
    public Http2FrameFlags Flags { get; }

    /// <summary>Stream identifier (31 bits; 0 for the connection).</summary>
    public int StreamId { get; }

    /// <summary>True when <paramref name="flag"/> is set.</summary>
    public bool HasFlag(Http2FrameFlags flag) => (Flags & flag) != 0;

    /// <summary>Reads a header from the first 9 bytes of <paramref name="source"/>.</summary>
    public static Http2FrameHeader Read(ReadOnlySpan<byte> source)
    {
        int length = (source[0] << 16) | (source[1] << 8) | source[2];
        int streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(source.Slice(5, 4)) & 0x7FFF_FFFFu);
        return new Http2FrameHeader(length, (Http2FrameType)source[3], (Http2FrameFlags)source[4], streamId);
    }

    /// <summary>Writes the header into the first 9 bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        destination[8] = (byte)StreamId; // one bounds check for the whole header
        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = (byte)Type;
        destination[4] = (byte)Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(5, 4), (uint)StreamId & 0x7FFF_FFFFu);
    }

    public override string ToString() => $"{Type} len={Length} flags=0x{(byte)Flags:x2} stream={StreamId}";
}
