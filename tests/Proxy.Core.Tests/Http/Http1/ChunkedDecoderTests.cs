using System.Buffers;
using Proxy.Http.Http1;
using static Proxy.Tests.Http.Http1.TestInput;

namespace Proxy.Tests.Http.Http1;

public class ChunkedDecoderTests
{
    private const string WithExtensionsAndTrailers =
        "5;name=value;flag\r\nhello\r\n"
        + "7 ; q=\"a \\\"quoted\\\" ; value\" \r\n, world\r\n"
        + "00A\r\n0123456789\r\n"
        + "0;last=1\r\n"
        + "X-Checksum: abc\r\nX-Other:  v2 \r\n\r\n";

    public static TheoryData<string, string, string> ValidBodies => new()
    {
        { WithExtensionsAndTrailers, "hello, world0123456789", "X-Checksum: abc\r\nX-Other:  v2 \r\n" },
        { "0\r\n\r\n", "", "" },
        { "1\r\na\r\n0\r\n\r\n", "a", "" },
        { "1E\r\n0123456789abcdef0123456789abcd\r\n0000\r\n\r\n", "0123456789abcdef0123456789abcd", "" },
    };

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Decode_EveryTwoSegmentSplit_SameDataAndTrailers(string body, string expectedData, string expectedTrailers)
    {
        byte[] data = Bytes(body + "NEXT");
        for (int at = 0; at <= data.Length; at++)
        {
            // Each segment is handed over in its own call, as reads would deliver it.
            var decoder = new ChunkedDecoder();
            var output = new ArrayBufferWriter<byte>();
            long consumed = DecodeInPieces(decoder, output, data[..at], data[at..]);

            Assert.True(decoder.IsCompleted, $"split at {at}");
            Assert.Equal(expectedData, Text(output.WrittenSpan));
            Assert.Equal(expectedTrailers, Text(decoder.TrailerBytes));
            Assert.Equal(body.Length, consumed);
        }
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Decode_OneByteAtATime_SameResult(string body, string expectedData, string expectedTrailers)
    {
        byte[] data = Bytes(body);
        var decoder = new ChunkedDecoder();
        var output = new ArrayBufferWriter<byte>();
        var pieces = new byte[data.Length][];
        for (int i = 0; i < data.Length; i++) pieces[i] = [data[i]];
        DecodeInPieces(decoder, output, pieces);
        Assert.True(decoder.IsCompleted);
        Assert.Equal(expectedData, Text(output.WrittenSpan));
        Assert.Equal(expectedTrailers, Text(decoder.TrailerBytes));
    }

    [Fact]
    public void Decode_MultiSegmentSequence_DataSlicesSpanSegments()
    {
        byte[] data = Bytes(WithExtensionsAndTrailers);
        var decoder = new ChunkedDecoder();
        var output = new ArrayBufferWriter<byte>();
        var reader = new SequenceReader<byte>(PerByte(data));
        ChunkedDecodeStatus status;
        while ((status = decoder.Decode(ref reader, out ReadOnlySequence<byte> piece)) == ChunkedDecodeStatus.Data)
        {
            foreach (ReadOnlyMemory<byte> m in piece) output.Write(m.Span);
        }

        Assert.Equal(ChunkedDecodeStatus.Completed, status);
        Assert.Equal("hello, world0123456789", Text(output.WrittenSpan));
        Assert.Equal(2, decoder.Trailers.Length);
        Assert.Equal("X-Other", Text(decoder.GetTrailerName(1)));
        Assert.Equal("v2", Text(decoder.GetTrailerValue(1)));
    }

    [Fact]
    public void Decode_RawPassThrough_ConsumedRangeIsTheOriginalBody()
    {
        byte[] data = Bytes(WithExtensionsAndTrailers + "GET / HTTP/1.1\r\n");
        var sequence = new ReadOnlySequence<byte>(data);
        var reader = new SequenceReader<byte>(sequence);
        var decoder = new ChunkedDecoder();
        while (decoder.Decode(ref reader, out _) == ChunkedDecodeStatus.Data)
        {
        }

        Assert.True(decoder.IsCompleted);
        Assert.Equal(WithExtensionsAndTrailers, Text(sequence.Slice(0, reader.Position)));
    }

    [Fact]
    public void Decode_ChunkSizeOverflow_Rejected()
    {
        // 16 hex digits with the top bit set do not fit a signed 64-bit length.
        Assert.Equal(Http1ParseError.ChunkSizeOverflow, DecodeError("8000000000000000\r\n"));
        Assert.Equal(Http1ParseError.ChunkSizeOverflow, DecodeError("fffffffffffffffff\r\n"));
        Assert.Equal(Http1ParseError.ChunkSizeOverflow, DecodeError("10000000000000000\r\n"));
    }

    [Fact]
    public void Decode_LargestChunkSize_AcceptedAndAwaitsData()
    {
        var decoder = new ChunkedDecoder();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("00007fffffffffffffff\r\nab")));
        Assert.Equal(ChunkedDecodeStatus.Data, decoder.Decode(ref reader, out ReadOnlySequence<byte> piece));
        Assert.Equal("ab", Text(piece));
        Assert.Equal(ChunkedDecodeStatus.NeedMoreData, decoder.Decode(ref reader, out _));
    }

    [Theory]
    [InlineData("\r\n", Http1ParseError.InvalidChunkSize)]
    [InlineData("g\r\n", Http1ParseError.InvalidChunkSize)]
    [InlineData("-1\r\n", Http1ParseError.InvalidChunkSize)]
    [InlineData(" 5\r\nhello\r\n", Http1ParseError.InvalidChunkSize)]
    [InlineData("0x5\r\n", Http1ParseError.InvalidChunkSize)]
    [InlineData("5\nhello\r\n", Http1ParseError.BareLineFeed)]
    [InlineData("5;a=b\nhello\r\n", Http1ParseError.BareLineFeed)]
    [InlineData("5\rhello\r\n", Http1ParseError.InvalidChunkLineEnding)]
    [InlineData("5\r\nhello\n0\r\n\r\n", Http1ParseError.BareLineFeed)]
    [InlineData("5\r\nhelloX\r\n", Http1ParseError.InvalidChunkLineEnding)]
    [InlineData("5\r\nhello\rX", Http1ParseError.InvalidChunkLineEnding)]
    [InlineData("5;\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("5;=v\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("5;a=\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("5;a=b c\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("5;a=\"unterminated\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("5;a=\"nul\0\"\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("5;a@b\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("5 x\r\n", Http1ParseError.InvalidChunkExtension)]
    [InlineData("0\r\nX-T: v\n\r\n", Http1ParseError.BareLineFeed)]
    [InlineData("0\r\n\n", Http1ParseError.BareLineFeed)]
    [InlineData("0\r\nX-T : v\r\n\r\n", Http1ParseError.WhitespaceBeforeColon)]
    [InlineData("0\r\nX-T: a\0b\r\n\r\n", Http1ParseError.InvalidHeaderValue)]
    [InlineData("0\r\n folded\r\n\r\n", Http1ParseError.ObsoleteLineFolding)]
    [InlineData("0\r\nno-colon\r\n\r\n", Http1ParseError.InvalidHeaderLine)]
    public void Decode_InvalidBody_RejectedAtEverySplit(string body, Http1ParseError expected)
    {
        byte[] data = Bytes(body);
        for (int at = 0; at <= data.Length; at++)
        {
            var decoder = new ChunkedDecoder();
            DecodeInPieces(decoder, new ArrayBufferWriter<byte>(), data[..at], data[at..]);
            Assert.Equal(expected, decoder.Error);
            Assert.False(decoder.IsCompleted);
        }
    }

    [Fact]
    public void Decode_ChunkLineOverLimit_Rejected()
    {
        var limits = new Http1Limits { MaxChunkLineLength = 64 };
        var decoder = new ChunkedDecoder(limits);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("5;" + new string('a', 100))));
        Assert.Equal(ChunkedDecodeStatus.Invalid, decoder.Decode(ref reader, out _));
        Assert.Equal(Http1ParseError.ChunkLineTooLong, decoder.Error);
    }

    [Fact]
    public void Decode_TrailersOverLimit_Rejected()
    {
        var decoder = new ChunkedDecoder(new Http1Limits { MaxTrailerBytes = 64 });
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("0\r\nX-Big: " + new string('a', 100))));
        Assert.Equal(ChunkedDecodeStatus.Invalid, decoder.Decode(ref reader, out _));
        Assert.Equal(Http1ParseError.TrailersTooLarge, decoder.Error);
    }

    [Fact]
    public void Decode_ResetAfterBody_DecodesNextBody()
    {
        var decoder = new ChunkedDecoder();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("0\r\nA: 1\r\n\r\n3\r\nabc\r\n0\r\n\r\n")));
        Assert.Equal(ChunkedDecodeStatus.Completed, decoder.Decode(ref reader, out _));
        Assert.Equal(1, decoder.Trailers.Length);
        decoder.Reset();
        Assert.Equal(ChunkedDecodeStatus.Data, decoder.Decode(ref reader, out ReadOnlySequence<byte> piece));
        Assert.Equal("abc", Text(piece));
        Assert.Equal(ChunkedDecodeStatus.Completed, decoder.Decode(ref reader, out _));
        Assert.Equal(0, decoder.Trailers.Length);
        Assert.True(reader.End);
        decoder.Dispose();
    }

    [Fact]
    public void Encoder_RoundTripsThroughDecoder()
    {
        var output = new ArrayBufferWriter<byte>();
        ChunkedEncoder.WriteChunk(output, Bytes("hello"));
        ChunkedEncoder.WriteChunk(output, new ReadOnlySequence<byte>(new byte[300]));
        ChunkedEncoder.WriteChunk(output, ReadOnlySpan<byte>.Empty);
        ChunkedEncoder.WriteLastChunk(output, Bytes("X-Sum: 1\r\n"));
        Assert.StartsWith("5\r\nhello\r\n12c\r\n", Text(output.WrittenSpan));
        Assert.EndsWith("\r\n0\r\nX-Sum: 1\r\n\r\n", Text(output.WrittenSpan));

        var decoded = new ArrayBufferWriter<byte>();
        var decoder = new ChunkedDecoder();
        DecodeInPieces(decoder, decoded, output.WrittenSpan.ToArray());
        Assert.True(decoder.IsCompleted);
        Assert.Equal(305, decoded.WrittenCount);
        Assert.Equal("X-Sum: 1\r\n", Text(decoder.TrailerBytes));
    }

    [Theory]
    [InlineData(1L, "1\r\n")]
    [InlineData(15L, "f\r\n")]
    [InlineData(16L, "10\r\n")]
    [InlineData(4096L, "1000\r\n")]
    [InlineData(long.MaxValue, "7fffffffffffffff\r\n")]
    public void WriteChunkHeader_Length_LowercaseHex(long length, string expected)
    {
        var output = new ArrayBufferWriter<byte>();
        ChunkedEncoder.WriteChunkHeader(output, length);
        Assert.Equal(expected, Text(output.WrittenSpan));
    }

    [Fact]
    public void WriteLastChunk_NoTrailers_ZeroChunkAndEmptyLine()
    {
        var output = new ArrayBufferWriter<byte>();
        ChunkedEncoder.WriteLastChunk(output);
        Assert.Equal("0\r\n\r\n", Text(output.WrittenSpan));
    }

    /// <summary>Feeds each piece in its own call, carrying unconsumed bytes over like a pipe would.</summary>
    private static long DecodeInPieces(ChunkedDecoder decoder, ArrayBufferWriter<byte> output, params byte[][] pieces)
    {
        byte[] pending = [];
        long consumed = 0;
        foreach (byte[] piece in pieces)
        {
            pending = [.. pending, .. piece];
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(pending));
            ChunkedDecodeStatus status;
            while ((status = decoder.Decode(ref reader, out ReadOnlySequence<byte> data)) == ChunkedDecodeStatus.Data)
            {
                Assert.False(data.IsEmpty);
                output.Write(data.ToArray());
            }

            consumed += reader.Consumed;
            pending = pending[(int)reader.Consumed..];
            if (status != ChunkedDecodeStatus.NeedMoreData) break;
        }

        return consumed;
    }

    private static Http1ParseError DecodeError(string body)
    {
        var decoder = new ChunkedDecoder();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(body)));
        Assert.Equal(ChunkedDecodeStatus.Invalid, decoder.Decode(ref reader, out _));
        return decoder.Error;
    }
}
