using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Proxy.Observability;

/// <summary>
/// Istio's metadata exchange for TCP (its <c>istio-peer-exchange</c> ALPN protocol), so opaque traffic between two
/// sidecars is labelled with both workloads as HTTP traffic is. When both sides agree on the protocol by ALPN, each
/// writes one frame before any application byte: a 4-byte magic (0x3D230467), a 4-byte length, then a protobuf
/// <c>google.protobuf.Any</c> holding a <c>Struct</c> with the same <c>x-envoy-peer-metadata</c> (as a nested Struct,
/// not base64) and <c>x-envoy-peer-metadata-id</c> as the HTTP exchange's headers (all numbers big-endian). Each side
/// writes its frame at once and then reads the other's, so neither waits on the other and a server-first protocol
/// flows; Istio's Envoy sidecars write theirs as soon as they see the other's, so the two meet either way.
/// </summary>
public static class TcpPeerExchange
{
    /// <summary>The ALPN protocol both sides offer to say they speak the exchange.</summary>
    public const string Alpn = "istio-peer-exchange";

    public const uint Magic = 0x3D230467;

    /// <summary>The longest frame payload read; a sidecar's own is about 300 bytes.</summary>
    public const int MaxPayload = 16 * 1024;

    private const string StructTypeUrl = "type.googleapis.com/google.protobuf.Struct";

    /// <summary>The frame describing <paramref name="local"/>, written once per sidecar and sent on every exchange.</summary>
    public static byte[] Frame(WorkloadLabels local)
    {
        var metadata = Convert.FromBase64String(PeerMetadata.Encode(local));
        var fields = new List<byte>();
        PeerMetadata.WriteEntry(fields, PeerMetadata.HeaderName, PeerMetadata.StructValueTag, metadata);
        PeerMetadata.WriteEntry(fields, PeerMetadata.IdHeaderName, PeerMetadata.StringValueTag, Encoding.UTF8.GetBytes(PeerMetadata.Id(local)));

        var any = new List<byte> { (1 << 3) | 2 }; // Any.type_url
        var typeUrl = Encoding.ASCII.GetBytes(StructTypeUrl);
        PeerMetadata.WriteVarint(any, typeUrl.Length);
        any.AddRange(typeUrl);
        any.Add((2 << 3) | 2); // Any.value
        PeerMetadata.WriteVarint(any, fields.Count);
        any.AddRange(fields);

        var frame = new byte[8 + any.Count];
        BinaryPrimitives.WriteUInt32BigEndian(frame, Magic);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)any.Count);
        any.CopyTo(frame, 8);
        return frame;
    }

    /// <summary>What reading a frame from the start of a byte stream came to.</summary>
    public enum ReadResult
    {
        /// <summary>The frame is complete: <c>consumed</c> bytes belong to it; the rest is the application's.</summary>
        Read,

        /// <summary>More bytes are needed.</summary>
        NeedMore,

        /// <summary>The bytes are not a frame (a peer that does not speak the exchange): nothing is consumed.</summary>
        NotAFrame,
    }

    /// <summary>
    /// Reads the other side's frame from the start of <paramref name="buffer"/>. On <see cref="ReadResult.Read"/>,
    /// <paramref name="metadata"/> is the peer's metadata in the HTTP header's form (base64 of the Struct, what
    /// <see cref="PeerMetadataCache.Resolve"/> takes), empty when the frame held none.
    /// </summary>
    public static ReadResult TryRead(ReadOnlySequence<byte> buffer, out long consumed, out byte[] metadata)
    {
        consumed = 0;
        metadata = [];
        Span<byte> header = stackalloc byte[8];
        if (buffer.Length < 8)
        {
            return buffer.Length >= 4 && !StartsWithMagic(buffer) ? ReadResult.NotAFrame : ReadResult.NeedMore;
        }

        buffer.Slice(0, 8).CopyTo(header);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (BinaryPrimitives.ReadUInt32BigEndian(header) != Magic || length > MaxPayload)
        {
            return ReadResult.NotAFrame;
        }

        if (buffer.Length < 8 + length)
        {
            return ReadResult.NeedMore;
        }

        consumed = 8 + length;
        var payload = buffer.Slice(8, length).ToArray();
        metadata = MetadataOf(payload) is { } nested ? Encoding.ASCII.GetBytes(Convert.ToBase64String(nested)) : [];
        return ReadResult.Read;
    }

    private static bool StartsWithMagic(ReadOnlySequence<byte> buffer)
    {
        Span<byte> magic = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(magic);
        return BinaryPrimitives.ReadUInt32BigEndian(magic) == Magic;
    }

    /// <summary>The nested Struct under <c>x-envoy-peer-metadata</c> in the Any's Struct, or null. Once per connection: copies are fine.</summary>
    private static byte[]? MetadataOf(ReadOnlySpan<byte> any)
    {
        if (Field(any, 2) is not { } value) // Any.value: the Struct
        {
            return null;
        }

        ReadOnlySpan<byte> fields = value;
        while (!fields.IsEmpty)
        {
            if (!PeerMetadata.TryReadField(ref fields, out var field, out var wire, out var entry))
            {
                return null;
            }

            if (field == 1 && wire == 2 && Field(entry, 1) is { } key && key.AsSpan().SequenceEqual(HeaderNameBytes) && Field(entry, 2) is { } entryValue)
            {
                return Field(entryValue, 5); // Value.struct_value
            }
        }

        return null;
    }

    /// <summary>The last length-delimited field <paramref name="number"/> of <paramref name="message"/>, copied; null when absent or malformed.</summary>
    private static byte[]? Field(ReadOnlySpan<byte> message, int number)
    {
        byte[]? found = null;
        while (!message.IsEmpty)
        {
            if (!PeerMetadata.TryReadField(ref message, out var field, out var wire, out var payload))
            {
                return null;
            }

            if (field == number && wire == 2)
            {
                found = payload.ToArray();
            }
        }

        return found;
    }

    private static ReadOnlySpan<byte> HeaderNameBytes => "x-envoy-peer-metadata"u8;
}
