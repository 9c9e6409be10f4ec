using Proxy.Http.Http2.HPack;
using static Proxy.Tests.Http.Http2.Http2TestData;

namespace Proxy.Tests.Http.Http2.HPack;

public class HPackDecoderTests
{
    [Fact]
    public void Decode_C21_LiteralWithIndexing_AddsEntry()
    {
        var decoder = new HPackDecoder();
        var fields = RecordingHandler.Decode(decoder, Hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"), out var status);
        Assert.Equal(HPackDecodeStatus.Success, status);
        Assert.Equal([("custom-key", "custom-header", false)], fields);
        Assert.Equal(55, decoder.DynamicTable.Size);
        Assert.Equal(1, decoder.DynamicTable.Count);
    }

    [Fact]
    public void Decode_C22_LiteralWithoutIndexing_LeavesTableEmpty()
    {
        var decoder = new HPackDecoder();
        var fields = RecordingHandler.Decode(decoder, Hex("040c 2f73 616d 706c 652f 7061 7468"), out var status);
        Assert.Equal(HPackDecodeStatus.Success, status);
        Assert.Equal([(":path", "/sample/path", false)], fields);
        Assert.Equal(0, decoder.DynamicTable.Count);
    }

    [Fact]
    public void Decode_C23_NeverIndexed_FlagsTheField()
    {
        var decoder = new HPackDecoder();
        var fields = RecordingHandler.Decode(decoder, Hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), out var status);
        Assert.Equal(HPackDecodeStatus.Success, status);
        Assert.Equal([("password", "secret", true)], fields);
        Assert.Equal(0, decoder.DynamicTable.Count);
    }

    [Fact]
    public void Decode_C24_Indexed_FromStaticTable()
    {
        var decoder = new HPackDecoder();
        var fields = RecordingHandler.Decode(decoder, Hex("82"), out var status);
        Assert.Equal(HPackDecodeStatus.Success, status);
        Assert.Equal([(":method", "GET", false)], fields);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decode_C3C4_Requests_MatchFieldsAndTableSizes(bool huffman)
    {
        var decoder = new HPackDecoder();
        string[] blocks = huffman ? HPackAppendixC.RequestsHuffman : HPackAppendixC.RequestsPlain;
        for (int i = 0; i < blocks.Length; i++)
        {
            var fields = RecordingHandler.Decode(decoder, Hex(blocks[i]), out var status);
            Assert.Equal(HPackDecodeStatus.Success, status);
            Assert.Equal(ToExpected(HPackAppendixC.Requests[i]), fields);
            Assert.Equal(HPackAppendixC.RequestTableSizes[i], decoder.DynamicTable.Size);
        }

        // C.3.3 table: [62] custom-key, [63] cache-control, [64] :authority.
        Assert.Equal("custom-key"u8.ToArray(), decoder.DynamicTable.GetName(0).ToArray());
        Assert.Equal("no-cache"u8.ToArray(), decoder.DynamicTable.GetValue(1).ToArray());
        Assert.Equal("www.example.com"u8.ToArray(), decoder.DynamicTable.GetValue(2).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decode_C5C6_ResponsesWithEviction_MatchFieldsAndTableSizes(bool huffman)
    {
        var decoder = new HPackDecoder(maxTableSize: 256);
        string[] blocks = huffman ? HPackAppendixC.ResponsesHuffman : HPackAppendixC.ResponsesPlain;
        for (int i = 0; i < blocks.Length; i++)
        {
            var fields = RecordingHandler.Decode(decoder, Hex(blocks[i]), out var status);
            Assert.Equal(HPackDecodeStatus.Success, status);
            Assert.Equal(ToExpected(HPackAppendixC.Responses[i]), fields);
            Assert.Equal(HPackAppendixC.ResponseTableSizes[i], decoder.DynamicTable.Size);
            Assert.Equal(HPackAppendixC.ResponseTableCounts[i], decoder.DynamicTable.Count);
        }

        // C.5.3 table: set-cookie, content-encoding, date :22.
        Assert.Equal("set-cookie"u8.ToArray(), decoder.DynamicTable.GetName(0).ToArray());
        Assert.Equal("gzip"u8.ToArray(), decoder.DynamicTable.GetValue(1).ToArray());
        Assert.Equal("Mon, 21 Oct 2013 20:13:22 GMT"u8.ToArray(), decoder.DynamicTable.GetValue(2).ToArray());
    }

    [Fact]
    public void Decode_SizeUpdateAboveSettingsLimit_IsCompressionError()
    {
        var decoder = new HPackDecoder(maxTableSize: 4096);
        Assert.Equal(HPackDecodeStatus.Success, Status(decoder, Hex("3fe11f"))); // 4096: allowed
        Assert.Equal(HPackDecodeStatus.CompressionError, Status(decoder, Hex("3fe21f"))); // 4097
    }

    [Fact]
    public void Decode_SizeUpdate_EvictsEntries()
    {
        var decoder = new HPackDecoder();
        Status(decoder, Hex(HPackAppendixC.RequestsPlain[0]));
        Assert.Equal(1, decoder.DynamicTable.Count);
        Assert.Equal(HPackDecodeStatus.Success, Status(decoder, Hex("20 82")));   // size 0, then :method GET
        Assert.Equal(0, decoder.DynamicTable.Count);
        Assert.Equal(0, decoder.DynamicTable.MaxSize);
    }

    [Fact]
    public void Decode_SizeUpdateAfterAField_IsCompressionError()
    {
        var decoder = new HPackDecoder();
        Assert.Equal(HPackDecodeStatus.CompressionError, Status(decoder, Hex("82 20")));
    }

    [Fact]
    public void Decode_TwoSizeUpdatesAtStart_Accepted()
    {
        var decoder = new HPackDecoder();
        Assert.Equal(HPackDecodeStatus.Success, Status(decoder, Hex("20 3fe11f 82")));
        Assert.Equal(4096, decoder.DynamicTable.MaxSize);
    }

    [Fact]
    public void Decode_LimitLoweredWithoutSizeUpdate_IsCompressionError()
    {
        var decoder = new HPackDecoder();
        decoder.SetMaxTableSizeLimit(100);
        Assert.Equal(HPackDecodeStatus.CompressionError, Status(decoder, Hex("82")));

        var second = new HPackDecoder();
        second.SetMaxTableSizeLimit(100);
        Assert.Equal(HPackDecodeStatus.Success, Status(second, Hex("3f45 82"))); // size update to 100 first
        Assert.Equal(100, second.DynamicTable.MaxSize);
    }

    [Theory]
    [InlineData("80")]             // index 0
    [InlineData("be")]             // index 62 with an empty dynamic table
    [InlineData("ff80")]           // integer truncated
    [InlineData("400a 6375 73")]   // string longer than the block
    [InlineData("41")]             // literal without its value
    [InlineData("4083 ffffff 01 61")] // Huffman name containing EOS
    [InlineData("ffffffffff0f")]   // index overflowing 2^31-1
    public void Decode_MalformedBlock_IsCompressionError(string hex)
    {
        var decoder = new HPackDecoder();
        Assert.Equal(HPackDecodeStatus.CompressionError, Status(decoder, Hex(hex)));
        Assert.NotNull(decoder.LastError);
    }

    [Fact]
    public void Decode_HeaderListOverLimit_ReportsTooLargeAndKeepsTableInSync()
    {
        // Limit 100: C.3.1 carries :method GET (42), :scheme http (43), :path / (38), :authority (57).
        var decoder = new HPackDecoder(maxHeaderListSize: 100);
        var fields = RecordingHandler.Decode(decoder, Hex(HPackAppendixC.RequestsPlain[0]), out var status);
        Assert.Equal(HPackDecodeStatus.HeaderListTooLarge, status);
        Assert.Equal(2, fields.Length); // 42 + 43 = 85; with :path it would be 123

        // The :authority entry was still added, so C.3.2 (which references it) decodes.
        Assert.Equal(57, decoder.DynamicTable.Size);
        var next = new HPackDecoder(maxHeaderListSize: 1000);
        Status(next, Hex(HPackAppendixC.RequestsPlain[0]));
        Assert.Equal(next.DynamicTable.Size, decoder.DynamicTable.Size);
    }

    [Fact]
    public void Decode_HuffmanStringLargerThanScratch_TooLargeAndTableCleared()
    {
        // 5000 'a' Huffman-coded with incremental indexing: larger than both limits (4096).
        var encoder = new HPackEncoder(maxTableSize: 8192);
        var block = new byte[8000];
        string value = new('a', 5000);
        Assert.True(encoder.TryEncode("x-big"u8, System.Text.Encoding.ASCII.GetBytes(value), HPackIndexing.Incremental, block, out int written));

        var decoder = new HPackDecoder(maxTableSize: 4096, maxHeaderListSize: 4096);
        Status(decoder, Hex("82"));
        var fields = RecordingHandler.Decode(decoder, block[..written], out var status);
        Assert.Equal(HPackDecodeStatus.HeaderListTooLarge, status);
        Assert.Empty(fields);
        Assert.Equal(0, decoder.DynamicTable.Count);
    }

    [Fact]
    public void Decode_IndexedNameOfEntryEvictedByTheInsert_KeepsName()
    {
        // Table of 64 bytes holds one entry "aaaa: 1234..." ; a literal with indexing that names it (index 62)
        // with a long value evicts it while inserting. RFC 7541 4.4 warns about exactly this case.
        var decoder = new HPackDecoder(maxTableSize: 64);
        Status(decoder, Hex("40 04 61616161 02 3132"));                // aaaa: 12 (size 38)
        var fields = RecordingHandler.Decode(decoder, Hex("7e 0a 30313233343536373839"), out var status); // name index 62
        Assert.Equal(HPackDecodeStatus.Success, status);
        Assert.Equal([("aaaa", "0123456789", false)], fields);
        Assert.Equal(1, decoder.DynamicTable.Count);
        Assert.Equal("aaaa"u8.ToArray(), decoder.DynamicTable.GetName(0).ToArray());
    }

    [Fact]
    public void Decode_SteadyState_AllocatesNothing()
    {
        var decoder = new HPackDecoder();
        byte[][] blocks = [.. HPackAppendixC.RequestsHuffman.Select(Hex)];
        var handler = new CountingHandler();
        foreach (byte[] block in blocks)
        {
            decoder.Decode(block, ref handler);
        }

        byte[] warm = blocks[2];
        decoder.Decode(warm, ref handler);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            decoder.Decode(warm, ref handler);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static HPackDecodeStatus Status(HPackDecoder decoder, byte[] block)
    {
        RecordingHandler.Decode(decoder, block, out var status);
        return status;
    }

    private static (string, string, bool)[] ToExpected((string, string)[] fields) =>
        [.. fields.Select(f => (f.Item1, f.Item2, false))];

    private struct CountingHandler : IHPackHeaderHandler
    {
        public int Count;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) => Count++;
    }
}
