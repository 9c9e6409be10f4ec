using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Proxy.Observability;

namespace Proxy.Tests.Observability;

public class TcpPeerExchangeTests
{
    private static readonly WorkloadLabels Orders = new("orders-v1", "shop", "spiffe://cluster.local/ns/shop/sa/orders", "orders", "v1");

    [Fact]
    public void Frame_TryRead_RoundTripsTheWorkload_LeavesTheAppsBytes()
    {
        var frame = TcpPeerExchange.Frame(Orders);
        var withApp = new ReadOnlySequence<byte>([.. frame, .. "220 ready\r\n"u8.ToArray()]);

        Assert.Equal(TcpPeerExchange.ReadResult.Read, TcpPeerExchange.TryRead(withApp, out var consumed, out var metadata));
        Assert.Equal(frame.Length, consumed);
        Assert.True(PeerMetadata.TryDecode(metadata, out var fields));
        Assert.Equal(new PeerMetadata.Fields("orders-v1", "shop", "orders", "v1"), fields);

        // Istio's layout: magic and length big-endian, then an Any naming google.protobuf.Struct.
        Assert.Equal(0x3D230467u, BinaryPrimitives.ReadUInt32BigEndian(frame));
        Assert.Equal((uint)(frame.Length - 8), BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4)));
        Assert.Contains("type.googleapis.com/google.protobuf.Struct", Encoding.ASCII.GetString(frame));
        Assert.Contains("x-envoy-peer-metadata-id", Encoding.ASCII.GetString(frame));
    }

    [Fact]
    public void TryRead_FrameInPieces_NeedsMoreUntilWhole()
    {
        var frame = TcpPeerExchange.Frame(Orders);
        foreach (var cut in new[] { 0, 3, 4, 8, frame.Length - 1 })
        {
            Assert.Equal(TcpPeerExchange.ReadResult.NeedMore, TcpPeerExchange.TryRead(new ReadOnlySequence<byte>(frame, 0, cut), out var consumed, out _));
            Assert.Equal(0, consumed);
        }
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n")] // an opaque protocol's own first bytes: not a frame, nothing taken
    [InlineData("GET / HTTP/1.1\r\n\r\n")]
    public void TryRead_OtherBytes_NotAFrame(string text)
    {
        Assert.Equal(TcpPeerExchange.ReadResult.NotAFrame, TcpPeerExchange.TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), out var consumed, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void TryRead_LengthPastTheLimit_NotAFrame()
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, TcpPeerExchange.Magic);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), TcpPeerExchange.MaxPayload + 1);
        Assert.Equal(TcpPeerExchange.ReadResult.NotAFrame, TcpPeerExchange.TryRead(new ReadOnlySequence<byte>(header), out _, out _));
    }

    [Fact]
    public void TryRead_FrameWithoutMetadata_ReadWithNoneFound()
    {
        // A well-formed frame whose Any holds something else: consumed (it is the peer's), labels from the certificate.
        byte[] any = [0x0A, 0x03, (byte)'a', (byte)'b', (byte)'c'];
        var frame = new byte[8 + any.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, TcpPeerExchange.Magic);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)any.Length);
        any.CopyTo(frame, 8);

        Assert.Equal(TcpPeerExchange.ReadResult.Read, TcpPeerExchange.TryRead(new ReadOnlySequence<byte>(frame), out var consumed, out var metadata));
        Assert.Equal(frame.Length, consumed);
        Assert.Empty(metadata);
    }
}
