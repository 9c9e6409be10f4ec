using System.Buffers;
using System.Text;
using Proxy.Http.Http2.HPack;
using static Proxy.Tests.Http.Http2.Http2TestData;

namespace Proxy.Tests.Http.Http2.HPack;

public class HPackEncoderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encode_C3C4_Requests_MatchAppendixBytes(bool huffman)
    {
        var encoder = new HPackEncoder(useHuffman: huffman);
        string[] expected = huffman ? HPackAppendixC.RequestsHuffman : HPackAppendixC.RequestsPlain;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(Hex(expected[i]), EncodeBlock(encoder, HPackAppendixC.Requests[i]));
            Assert.Equal(HPackAppendixC.RequestTableSizes[i], encoder.DynamicTable.Size);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encode_C5C6_ResponsesWithEviction_MatchAppendixBytes(bool huffman)
    {
        var encoder = new HPackEncoder(maxTableSize: 256, useHuffman: huffman);
        string[] expected = huffman ? HPackAppendixC.ResponsesHuffman : HPackAppendixC.ResponsesPlain;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(Hex(expected[i]), EncodeBlock(encoder, HPackAppendixC.Responses[i]));
            Assert.Equal(HPackAppendixC.ResponseTableSizes[i], encoder.DynamicTable.Size);
            Assert.Equal(HPackAppendixC.ResponseTableCounts[i], encoder.DynamicTable.Count);
        }
    }

    [Fact]
    public void Encode_C22C23_WithoutAndNeverIndexed_MatchAppendixBytes()
    {
        var encoder = new HPackEncoder(useHuffman: false);
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode(output, ":path"u8, "/sample/path"u8, HPackIndexing.WithoutIndexing);
        Assert.Equal(Hex("040c 2f73 616d 706c 652f 7061 7468"), output.WrittenSpan.ToArray());

        output.Clear();
        encoder.Encode(output, "password"u8, "secret"u8, HPackIndexing.NeverIndexed);
        Assert.Equal(Hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), output.WrittenSpan.ToArray());
        Assert.Equal(0, encoder.DynamicTable.Count);
    }

    [Fact]
    public void Encode_NeverIndexedStaticMatch_StaysLiteral()
    {
        var encoder = new HPackEncoder(useHuffman: false);
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode(output, ":method"u8, "GET"u8, HPackIndexing.NeverIndexed);
        Assert.Equal(Hex("12 03 474554"), output.WrittenSpan.ToArray()); // 0001 | index 2, literal value
    }

    [Fact]
    public void Encode_RandomFields_RoundTripThroughDecoder()
    {
        var random = new Random(9113);
        var encoder = new HPackEncoder(maxTableSize: 512);
        var decoder = new HPackDecoder(maxTableSize: 512, maxHeaderListSize: 64 * 1024);
        string[] names = ["x-a", "x-b", "content-type", "accept", "x-request-id", "user-agent", "cookie"];
        for (int block = 0; block < 200; block++)
        {
            var fields = new (string, string, bool)[random.Next(1, 12)];
            var output = new ArrayBufferWriter<byte>();
            for (int i = 0; i < fields.Length; i++)
            {
                string name = names[random.Next(names.Length)];
                string value = random.Next(3) == 0 ? "v" + random.Next(4) : RandomValue(random);
                var indexing = (HPackIndexing)random.Next(3);
                fields[i] = (name, value, indexing == HPackIndexing.NeverIndexed);
                encoder.Encode(output, Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value), indexing);
            }

            var decoded = RecordingHandler.Decode(decoder, output.WrittenSpan.ToArray(), out var status);
            Assert.Equal(HPackDecodeStatus.Success, status);
            Assert.Equal(fields, decoded);
            Assert.Equal(encoder.DynamicTable.Size, decoder.DynamicTable.Size);
        }
    }

    [Fact]
    public void SetMaxTableSize_EmitsSizeUpdatesAtNextBlockStart()
    {
        var encoder = new HPackEncoder(useHuffman: false);
        EncodeBlock(encoder, HPackAppendixC.Requests[0]);
        Assert.Equal(1, encoder.DynamicTable.Count);

        // Down to 0 then back to 100 before the next block: both are announced, smallest first (RFC 7541 4.2).
        encoder.SetMaxTableSize(0);
        encoder.SetMaxTableSize(100);
        byte[] block = EncodeBlock(encoder, [(":method", "GET")]);
        Assert.Equal(Hex("20 3f45 82"), block);
        Assert.Equal(0, encoder.DynamicTable.Count);
        Assert.Equal(100, encoder.DynamicTable.MaxSize);

        var decoder = new HPackDecoder();
        RecordingHandler.Decode(decoder, Hex(HPackAppendixC.RequestsPlain[0]), out _);
        RecordingHandler.Decode(decoder, block, out var status);
        Assert.Equal(HPackDecodeStatus.Success, status);
        Assert.Equal(100, decoder.DynamicTable.MaxSize);
    }

    [Fact]
    public void SetMaxTableSize_IncreaseOnly_EmitsOneUpdate()
    {
        var encoder = new HPackEncoder(maxTableSize: 4096);
        encoder.SetMaxTableSize(100);
        Assert.Equal(Hex("3f45 82"), EncodeBlock(encoder, [(":method", "GET")]));
        encoder.SetMaxTableSize(4096);
        Assert.Equal(Hex("3fe11f 82"), EncodeBlock(encoder, [(":method", "GET")]));
    }

    [Fact]
    public void SetMaxTableSize_AbovePeerCap_UsesOwnCap()
    {
        var encoder = new HPackEncoder(maxTableSize: 4096);
        encoder.SetMaxTableSize(65536);
        byte[] block = EncodeBlock(encoder, [(":method", "GET")]);
        Assert.Equal(Hex("82"), block); // nothing to announce: still 4096
    }

    [Fact]
    public void TryEncode_DestinationTooSmall_LeavesStateUnchanged()
    {
        var encoder = new HPackEncoder();
        encoder.SetMaxTableSize(1000);
        Span<byte> small = stackalloc byte[8];
        Assert.False(encoder.TryEncode("x-long-name"u8, "a-long-value"u8, HPackIndexing.Incremental, small, out _));
        Assert.Equal(0, encoder.DynamicTable.Count);
        Assert.Equal(4096, encoder.DynamicTable.MaxSize); // the pending update was not consumed
    }

    [Fact]
    public void Encode_FieldLargerThanTable_SentWithoutIndexing()
    {
        var encoder = new HPackEncoder(maxTableSize: 64, useHuffman: false);
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode(output, "x-name"u8, new byte[40], HPackIndexing.Incremental);
        Assert.Equal(0x00, output.WrittenSpan[0]);
        Assert.Equal(0, encoder.DynamicTable.Count);
    }

    [Fact]
    public void Encode_SteadyState_AllocatesNothing()
    {
        var encoder = new HPackEncoder();
        var buffer = new byte[1024];
        byte[][] names = [.. HPackAppendixC.Requests[2].Select(f => Encoding.ASCII.GetBytes(f.Item1))];
        byte[][] values = [.. HPackAppendixC.Requests[2].Select(f => Encoding.ASCII.GetBytes(f.Item2))];
        EncodeInto(encoder, names, values, buffer);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            EncodeInto(encoder, names, values, buffer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void EncodeInto(HPackEncoder encoder, byte[][] names, byte[][] values, byte[] buffer)
    {
        int position = 0;
        for (int i = 0; i < names.Length; i++)
        {
            encoder.TryEncode(names[i], values[i], HPackIndexing.Incremental, buffer.AsSpan(position), out int written);
            position += written;
        }
    }

    private static byte[] EncodeBlock(HPackEncoder encoder, (string, string)[] fields)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach ((string name, string value) in fields)
        {
            encoder.Encode(output, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        }

        return output.WrittenSpan.ToArray();
    }

    private static string RandomValue(Random random)
    {
        var chars = new char[random.Next(0, 40)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)random.Next(0, 256);
        }

        return new string(chars);
    }
}
