using System.Buffers;
using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2FrameWriterTests
{
    [Fact]
    public void WriteEachType_ReadBack_SameFields()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteSettings(output, [new(Http2SettingsParameter.MaxConcurrentStreams, 100), new(Http2SettingsParameter.InitialWindowSize, 1 << 20)]);
        Http2FrameWriter.WriteSettingsAck(output);
        Http2FrameWriter.WriteWindowUpdate(output, 0, 983041);
        Http2FrameWriter.WriteHeaders(output, 1, [0x82, 0x86], endStream: false, maxFrameSize: 16384);
        Http2FrameWriter.WriteData(output, 1, "hello"u8, endStream: true, maxFrameSize: 16384);
        Http2FrameWriter.WritePing(output, 0x0102030405060708, ack: false);
        Http2FrameWriter.WritePing(output, 42, ack: true);
        Http2FrameWriter.WritePriority(output, 3, 1, exclusive: true, weight: 15);
        Http2FrameWriter.WriteRstStream(output, 3, Http2ErrorCode.RefusedStream);
        Http2FrameWriter.WritePushPromise(output, 1, 2, [0x88], maxFrameSize: 16384);
        Http2FrameWriter.WriteGoAway(output, 7, Http2ErrorCode.EnhanceYourCalm, "calm"u8);

        Assert.Equal(
        [
            "Settings s=0 f=00 [000300000064000400100000]",
            "Settings s=0 f=01 []",
            "WindowUpdate s=0 f=00 [] inc=983041",
            "Headers s=1 f=04 [8286]",
            "Data s=1 f=01 [68656c6c6f]",
            "Ping s=0 f=00 [0102030405060708] ping=0102030405060708",
            "Ping s=0 f=01 [000000000000002a] ping=000000000000002a",
            "Priority s=3 f=00 []",
            "RstStream s=3 f=00 [] code=RefusedStream",
            "PushPromise s=1 f=04 [88] promised=2",
            "GoAway s=0 f=00 [63616c6d] last=7 code=EnhanceYourCalm",
        ], ReadAll(output.WrittenMemory));
    }

    [Fact]
    public void WriteSettings_FromModel_WritesNonDefaultsThatApplyBack()
    {
        var settings = new Http2Settings { EnablePush = false, MaxConcurrentStreams = 250, InitialWindowSize = 1 << 20, MaxFrameSize = 65536, MaxHeaderListSize = 32768 };
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteSettings(output, settings);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
        Assert.Equal(Http2ReadStatus.Frame, new Http2FrameReader().TryReadFrame(ref reader, out var frame, out _));
        Assert.Equal(5 * 6, frame.Payload.Length);

        var applied = new Http2Settings();
        Assert.Equal(Http2ErrorCode.NoError, applied.Apply(frame.Payload));
        Assert.False(applied.EnablePush);
        Assert.Equal(250, applied.MaxConcurrentStreams);
        Assert.Equal(1 << 20, applied.InitialWindowSize);
        Assert.Equal(65536, applied.MaxFrameSize);
        Assert.Equal(32768, applied.MaxHeaderListSize);
        Assert.Equal(4096, applied.HeaderTableSize);
    }

    [Fact]
    public void WriteHeaders_BlockLargerThanMaxFrameSize_SplitsIntoContinuations()
    {
        byte[] block = new byte[40000];
        new Random(1).NextBytes(block);
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteHeaders(output, 5, block, endStream: true, maxFrameSize: 16384);

        var frameReader = new Http2FrameReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
        var assembled = new Http2HeaderBlockBuffer(64 * 1024);
        var headers = new List<(Http2FrameType, Http2FrameFlags, long)>();
        while (frameReader.TryReadFrame(ref reader, out var frame, out _) == Http2ReadStatus.Frame)
        {
            headers.Add((frame.Type, frame.Flags, frame.Payload.Length));
            Assert.True(assembled.TryAppend(frame.Payload));
        }

        Assert.Equal(
        [
            (Http2FrameType.Headers, Http2FrameFlags.EndStream, 16384L),
            (Http2FrameType.Continuation, Http2FrameFlags.None, 16384L),
            (Http2FrameType.Continuation, Http2FrameFlags.EndHeaders, 40000L - 32768),
        ], headers);
        Assert.Equal(block, assembled.Block.ToArray());
        Assert.Equal(0, frameReader.ExpectedContinuationStreamId);
    }

    [Fact]
    public void WriteHeaders_BlockExactlyMaxFrameSize_OneFrame()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteHeaders(output, 1, new byte[16384], endStream: false, maxFrameSize: 16384);
        Assert.Equal(9 + 16384, output.WrittenCount);
        Assert.Equal((byte)Http2FrameFlags.EndHeaders, output.WrittenSpan[4]);
    }

    [Fact]
    public void WritePushPromise_LargeBlock_SplitsIntoContinuations()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WritePushPromise(output, 1, 2, new byte[20000], maxFrameSize: 16384);
        List<string> frames = ReadAll(output.WrittenMemory);
        Assert.Equal(2, frames.Count);
        Assert.StartsWith("PushPromise s=1 f=00", frames[0]);
        Assert.StartsWith("Continuation s=1 f=04", frames[1]);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(100, 1)]
    [InlineData(16384, 1)]
    [InlineData(16385, 2)]
    [InlineData(50000, 4)]
    public void WriteData_SplitsByMaxFrameSize_EndStreamOnLast(int length, int expectedFrames)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        foreach (bool sequence in new[] { false, true })
        {
            var output = new ArrayBufferWriter<byte>();
            if (sequence)
            {
                Http2FrameWriter.WriteData(output, 1, Http2TestData.Split(data, length / 3), endStream: true, maxFrameSize: 16384);
            }
            else
            {
                Http2FrameWriter.WriteData(output, 1, data, endStream: true, maxFrameSize: 16384);
            }

            var frameReader = new Http2FrameReader();
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
            var received = new List<byte>();
            var endStreams = new List<bool>();
            while (frameReader.TryReadFrame(ref reader, out var frame, out _) == Http2ReadStatus.Frame)
            {
                received.AddRange(frame.Payload.ToArray());
                endStreams.Add(frame.EndStream);
            }

            Assert.Equal(expectedFrames, endStreams.Count);
            Assert.Equal(data, received);
            Assert.Equal([.. Enumerable.Repeat(false, expectedFrames - 1), true], endStreams);
        }
    }

    [Fact]
    public void WriteFrames_SteadyState_AllocateNothing()
    {
        var buffer = new byte[64 * 1024];
        var output = new FixedWriter(buffer);
        byte[] block = new byte[100];
        WriteSome(output, block);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            output.Reset();
            WriteSome(output, block);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void WriteSome(IBufferWriter<byte> output, byte[] block)
    {
        Http2FrameWriter.WriteHeaders(output, 1, block, endStream: false, maxFrameSize: 16384);
        Http2FrameWriter.WriteData(output, 1, block, endStream: true, maxFrameSize: 16384);
        Http2FrameWriter.WriteWindowUpdate(output, 1, 1000);
        Http2FrameWriter.WritePing(output, 1, ack: true);
        Http2FrameWriter.WriteGoAway(output, 1, Http2ErrorCode.NoError);
    }

    private static List<string> ReadAll(ReadOnlyMemory<byte> bytes)
    {
        var frameReader = new Http2FrameReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        var frames = new List<string>();
        while (frameReader.TryReadFrame(ref reader, out var frame, out var error) == Http2ReadStatus.Frame)
        {
            frames.Add(Http2FrameReaderTests.Describe(frame));
        }

        Assert.Equal(bytes.Length, reader.Consumed);
        return frames;
    }

    /// <summary>An IBufferWriter over a fixed array, reusable without allocating.</summary>
    private sealed class FixedWriter(byte[] buffer) : IBufferWriter<byte>
    {
        private int _written;

        public void Reset() => _written = 0;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(_written);
    }
}
