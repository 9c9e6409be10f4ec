using System.Text;
using Proxy.Observability;

namespace Proxy.Tests.Observability;

public class PeerMetadataTests
{
    [Fact]
    public void Encode_TryDecode_RoundTripsIstiosFields()
    {
        var local = new WorkloadLabels("reviews-v2", "bookinfo", "spiffe://cluster.local/ns/bookinfo/sa/reviews", "reviews", "v2");

        Assert.True(PeerMetadata.TryDecode(Encoding.ASCII.GetBytes(PeerMetadata.Encode(local)), out var fields));
        Assert.Equal(new PeerMetadata.Fields("reviews-v2", "bookinfo", "reviews", "v2"), fields);
        Assert.Equal("sidecar~~reviews-v2.bookinfo~bookinfo.svc.cluster.local", PeerMetadata.Id(local));
    }

    [Fact]
    public void TryDecode_StructWithOtherFieldsAndValueKinds_ReadsWhatItKnows()
    {
        // A Struct as another sidecar may send it: unknown keys with number and bool values, the LABELS first.
        var labels = Entry("app", StringValue("ratings")).Concat(Entry("pod-template-hash", StringValue("abc"))).ToArray();
        var message = Entry("LABELS", [0x2A, .. Varint(labels.Length), .. labels])
            .Concat(Entry("MESH_ID", StringValue("cluster.local")))
            .Concat(Entry("PLATFORM_METADATA", [0x20, 0x01]))                                   // a bool_value, skipped
            .Concat(Entry("WORKLOAD_NAME", StringValue("ratings-v1")))
            .Concat(Entry("NAMESPACE", StringValue("default")))
            .ToArray();

        Assert.True(PeerMetadata.TryDecode(Encoding.ASCII.GetBytes(Convert.ToBase64String(message)), out var fields));
        Assert.Equal(new PeerMetadata.Fields("ratings-v1", "default", "ratings", null), fields);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64 at all!")]
    [InlineData("CgUKAk5B")]          // a map entry whose length runs past the end
    [InlineData("Cv////8P")]          // a length of 4 GiB
    [InlineData("/////////////w==")]  // a varint that never ends
    public void TryDecode_Garbage_False(string header)
    {
        Assert.False(PeerMetadata.TryDecode(Encoding.ASCII.GetBytes(header), out _));
    }

    [Fact]
    public void Cache_PastCapacity_NewPeersAreUnknown()
    {
        var cache = new PeerMetadataCache();
        for (var i = 0; i < PeerMetadataCache.Capacity; i++)
        {
            Assert.NotSame(PeerLabels.Unknown, cache.Resolve([], $"spiffe://d/ns/n{i}/sa/s", "mutual_tls"));
        }

        Assert.Same(PeerLabels.Unknown, cache.Resolve([], "spiffe://d/ns/one-too-many/sa/s", "mutual_tls"));
    }

    private static byte[] StringValue(string text) => [0x1A, .. Varint(Encoding.UTF8.GetByteCount(text)), .. Encoding.UTF8.GetBytes(text)];

    private static byte[] Entry(string key, byte[] value)
    {
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        byte[] entry = [0x0A, .. Varint(keyBytes.Length), .. keyBytes, 0x12, .. Varint(value.Length), .. value];
        return [0x0A, .. Varint(entry.Length), .. entry];
    }

    private static byte[] Varint(int value)
    {
        var bytes = new List<byte>();
        var v = (uint)value;
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        bytes.Add((byte)v);
        return [.. bytes];
    }
}
