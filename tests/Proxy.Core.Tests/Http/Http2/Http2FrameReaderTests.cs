using System.Buffers;
using Proxy.Http.Http2;
using static Proxy.Tests.Http.Http2.Http2TestData;

namespace Proxy.Tests.Http.Http2;

public class Http2FrameReaderTests
{
    [Fact]
    public void TryReadFrame_StreamOfFrames_ReadsEachInOrder()
    {
        List<string> frames = ReadAll(new ReadOnlySequence<byte>(SampleStream()), out long consumed, out Http2ReadStatus last);
        Assert.Equal(Http2ReadStatus.NeedMoreData, last);
        Assert.Equal(SampleStream().Length, consumed);
        Assert.Equal(
        [
            "Settings s=0 f=00 [00010000100000040000ffff]",
            "WindowUpdate s=0 f=00 [] inc=1048576",
            "Headers s=1 f=01 [8286]",
            "Continuation s=1 f=04 [8441]",
            "Data s=1 f=08 [68656c6c6f] pad=3",
            "Ping s=0 f=00 [0102030405060708] ping=0102030405060708",
            "Unknown(250) s=0 f=00 [abcd]",
            "Priority s=3 f=00 []",
            "RstStream s=3 f=00 [] code=Cancel",
            "GoAway s=0 f=00 [627965] last=7 code=NoError",
            "Data s=1 f=01 []",
        ], frames);
    }

    [Fact]
    public void TryReadFrame_EveryPrefix_ReadsWholeFramesOnlyAndConsumesNothingMore()
    {
        byte[] stream = SampleStream();
        List<string> all = ReadAll(new ReadOnlySequence<byte>(stream), out _, out _);
        int[] boundaries = FrameBoundaries(stream);
        for (int length = 0; length < stream.Length; length++)
        {
            List<string> frames = ReadAll(new ReadOnlySequence<byte>(stream, 0, length), out long consumed, out Http2ReadStatus last);
            Assert.Equal(Http2ReadStatus.NeedMoreData, last);
            int complete = boundaries.Count(b => b <= length) - 1;
            Assert.Equal(boundaries[complete], consumed);
            Assert.Equal(all.Take(complete), frames);
        }
    }

    [Fact]
    public void TryReadFrame_EveryTwoSegmentSplit_SameFrames()
    {
        byte[] stream = SampleStream();
        List<string> expected = ReadAll(new ReadOnlySequence<byte>(stream), out _, out _);
        for (int split = 1; split < stream.Length; split++)
        {
            List<string> frames = ReadAll(Split(stream, split), out long consumed, out _);
            Assert.Equal(stream.Length, consumed);
            Assert.Equal(expected, frames);
        }
    }

    [Fact]
    public void TryReadFrame_OversizedFrame_FailsOnTheHeaderAlone()
    {
        byte[] header = Frame(Http2FrameType.Data, 0, 1, new byte[16385])[..9];
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header));
        Assert.Equal(Http2ReadStatus.ConnectionError, new Http2FrameReader().TryReadFrame(ref reader, out _, out var error));
        Assert.Equal(Http2ErrorCode.FrameSizeError, error.Code);
        Assert.True(error.IsConnectionError);
        Assert.Equal(0, reader.Consumed);
    }

    [Fact]
    public void TryReadFrame_LargerMaxFrameSize_AcceptsLargerFrames()
    {
        var frameReader = new Http2FrameReader { MaxFrameSize = 32768 };
        byte[] bytes = Frame(Http2FrameType.Data, 0, 1, new byte[20000]);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(Http2ReadStatus.Frame, frameReader.TryReadFrame(ref reader, out var frame, out _));
        Assert.Equal(20000, frame.Payload.Length);
    }

    public static TheoryData<string, byte[], Http2ReadStatus, Http2ErrorCode> InvalidFrames() => new()
    {
        { "SETTINGS length not a multiple of 6", Frame(Http2FrameType.Settings, 0, 0, new byte[5]), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "SETTINGS ACK with payload", Frame(Http2FrameType.Settings, 1, 0, new byte[6]), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "SETTINGS on a stream", Frame(Http2FrameType.Settings, 0, 1, []), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "SETTINGS ENABLE_PUSH 2", Frame(Http2FrameType.Settings, 0, 0, Hex("0002 00000002")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "SETTINGS INITIAL_WINDOW_SIZE 2^31", Frame(Http2FrameType.Settings, 0, 0, Hex("0004 80000000")), Http2ReadStatus.ConnectionError, Http2ErrorCode.FlowControlError },
        { "SETTINGS MAX_FRAME_SIZE 16383", Frame(Http2FrameType.Settings, 0, 0, Hex("0005 00003fff")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "SETTINGS MAX_FRAME_SIZE 2^24", Frame(Http2FrameType.Settings, 0, 0, Hex("0005 01000000")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "PING length 7", Frame(Http2FrameType.Ping, 0, 0, new byte[7]), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "PING on a stream", Frame(Http2FrameType.Ping, 0, 1, new byte[8]), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "GOAWAY on a stream", Frame(Http2FrameType.GoAway, 0, 1, new byte[8]), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "GOAWAY length 7", Frame(Http2FrameType.GoAway, 0, 0, new byte[7]), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "WINDOW_UPDATE length 3", Frame(Http2FrameType.WindowUpdate, 0, 1, new byte[3]), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "WINDOW_UPDATE length 5", Frame(Http2FrameType.WindowUpdate, 0, 0, new byte[5]), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "WINDOW_UPDATE zero on connection", Frame(Http2FrameType.WindowUpdate, 0, 0, new byte[4]), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "WINDOW_UPDATE zero on stream", Frame(Http2FrameType.WindowUpdate, 0, 5, Hex("80000000")), Http2ReadStatus.StreamError, Http2ErrorCode.ProtocolError },
        { "RST_STREAM length 3", Frame(Http2FrameType.RstStream, 0, 1, new byte[3]), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "RST_STREAM on stream 0", Frame(Http2FrameType.RstStream, 0, 0, new byte[4]), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "PRIORITY length 4", Frame(Http2FrameType.Priority, 0, 1, new byte[4]), Http2ReadStatus.StreamError, Http2ErrorCode.FrameSizeError },
        { "PRIORITY on stream 0", Frame(Http2FrameType.Priority, 0, 0, new byte[5]), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "PRIORITY self dependency", Frame(Http2FrameType.Priority, 0, 3, Hex("00000003 10")), Http2ReadStatus.StreamError, Http2ErrorCode.ProtocolError },
        { "DATA on stream 0", Frame(Http2FrameType.Data, 0, 0, new byte[2]), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "HEADERS on stream 0", Frame(Http2FrameType.Headers, 4, 0, Hex("82")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "PUSH_PROMISE on stream 0", Frame(Http2FrameType.PushPromise, 4, 0, Hex("00000002 82")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "CONTINUATION without HEADERS", Frame(Http2FrameType.Continuation, 4, 1, Hex("82")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "CONTINUATION on stream 0", Frame(Http2FrameType.Continuation, 4, 0, Hex("82")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "DATA pad length equals payload", Frame(Http2FrameType.Data, 8, 1, Hex("03 0000")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "DATA pad length beyond payload", Frame(Http2FrameType.Data, 8, 1, Hex("09 6162")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "DATA padded without pad length", Frame(Http2FrameType.Data, 8, 1, []), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "HEADERS padding beyond fragment", Frame(Http2FrameType.Headers, 4 | 8 | 0x20, 1, Hex("02 00000000 10 82")), Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "HEADERS too short for priority", Frame(Http2FrameType.Headers, 4 | 0x20, 1, Hex("0000")), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "HEADERS self dependency", Frame(Http2FrameType.Headers, 4 | 0x20, 1, Hex("00000001 10 82")), Http2ReadStatus.StreamError, Http2ErrorCode.ProtocolError },
        { "PUSH_PROMISE without promised id", Frame(Http2FrameType.PushPromise, 4, 2, Hex("0000")), Http2ReadStatus.ConnectionError, Http2ErrorCode.FrameSizeError },
        { "HEADERS then DATA", [.. Frame(Http2FrameType.Headers, 0, 1, Hex("82")), .. Frame(Http2FrameType.Data, 0, 1, [])], Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "HEADERS then CONTINUATION on another stream", [.. Frame(Http2FrameType.Headers, 0, 1, Hex("82")), .. Frame(Http2FrameType.Continuation, 4, 3, Hex("84"))], Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "HEADERS then unknown frame", [.. Frame(Http2FrameType.Headers, 0, 1, Hex("82")), .. Frame((Http2FrameType)0xfa, 0, 0, [])], Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "PUSH_PROMISE then PING", [.. Frame(Http2FrameType.PushPromise, 0, 1, Hex("00000002 82")), .. Frame(Http2FrameType.Ping, 0, 0, new byte[8])], Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
        { "HEADERS, CONTINUATION, CONTINUATION after END_HEADERS", [.. Frame(Http2FrameType.Headers, 0, 1, Hex("82")), .. Frame(Http2FrameType.Continuation, 4, 1, Hex("84")), .. Frame(Http2FrameType.Continuation, 4, 1, Hex("86"))], Http2ReadStatus.ConnectionError, Http2ErrorCode.ProtocolError },
    };

    [Theory]
    [MemberData(nameof(InvalidFrames))]
    public void TryReadFrame_InvalidFrame_ReportsCodeAndScope(string rule, byte[] bytes, Http2ReadStatus expectedStatus, Http2ErrorCode expectedCode)
    {
        var frameReader = new Http2FrameReader();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Http2ReadStatus status;
        Http2FrameError error;
        long before;
        do
        {
            before = reader.Consumed;
            status = frameReader.TryReadFrame(ref reader, out _, out error);
        }
        while (status == Http2ReadStatus.Frame);

        Assert.True(expectedStatus == status, $"{rule}: {status} {error}");
        Assert.Equal(expectedCode, error.Code);
        Assert.Equal(expectedStatus == Http2ReadStatus.ConnectionError, error.IsConnectionError);
        Assert.False(string.IsNullOrEmpty(error.Reason));
        if (status == Http2ReadStatus.ConnectionError)
        {
            Assert.Equal(before, reader.Consumed); // nothing consumed
        }
        else
        {
            Assert.Equal(bytes.Length, reader.Consumed); // the stream error's frame is skipped, the connection goes on
        }
    }

    [Fact]
    public void TryReadFrame_HeadersStreamError_StillReturnsTheFieldBlock()
    {
        byte[] bytes = Frame(Http2FrameType.Headers, 4 | 0x20, 1, Hex("00000001 10 8286"));
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(Http2ReadStatus.StreamError, new Http2FrameReader().TryReadFrame(ref reader, out var frame, out _));
        Assert.Equal(Hex("8286"), frame.Payload.ToArray());
    }

    [Fact]
    public void TryReadFrame_PaddingEqualToRest_GivesEmptyData()
    {
        byte[] bytes = Frame(Http2FrameType.Data, 8, 1, Hex("02 0000"));
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(Http2ReadStatus.Frame, new Http2FrameReader().TryReadFrame(ref reader, out var frame, out _));
        Assert.Equal(0, frame.Payload.Length);
        Assert.Equal(2, frame.PadLength);
        Assert.Equal(3, frame.FlowControlledLength);
    }

    [Fact]
    public void TryReadFrame_ReservedBitOfStreamId_Ignored()
    {
        byte[] bytes = Frame(Http2FrameType.Data, 0, 1, Hex("61"));
        bytes[5] |= 0x80;
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(Http2ReadStatus.Frame, new Http2FrameReader().TryReadFrame(ref reader, out var frame, out _));
        Assert.Equal(1, frame.StreamId);
    }

    [Fact]
    public void TryReadFrame_SteadyState_AllocatesNothing()
    {
        byte[] stream = SampleStream();
        var frameReader = new Http2FrameReader();
        ReadLoop(frameReader, stream);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ReadLoop(frameReader, stream);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Frame bytes as built by hand (not by the writer), so reader and writer are checked independently.</summary>
    internal static byte[] Frame(Http2FrameType type, byte flags, int streamId, byte[] payload)
    {
        var bytes = new byte[9 + payload.Length];
        bytes[0] = (byte)(payload.Length >> 16);
        bytes[1] = (byte)(payload.Length >> 8);
        bytes[2] = (byte)payload.Length;
        bytes[3] = (byte)type;
        bytes[4] = flags;
        bytes[5] = (byte)(streamId >> 24);
        bytes[6] = (byte)(streamId >> 16);
        bytes[7] = (byte)(streamId >> 8);
        bytes[8] = (byte)streamId;
        payload.CopyTo(bytes, 9);
        return bytes;
    }

    internal static string Describe(in Http2Frame frame)
    {
        string type = frame.IsKnownType ? frame.Type.ToString() : $"Unknown({(byte)frame.Type})";
        string text = $"{type} s={frame.StreamId} f={(byte)frame.Flags:x2} [{Convert.ToHexString(frame.Payload.ToArray()).ToLowerInvariant()}]";
        return frame.Type switch
        {
            Http2FrameType.Data when frame.PadLength > 0 => text + $" pad={frame.PadLength}",
            Http2FrameType.WindowUpdate => text + $" inc={frame.WindowSizeIncrement}",
            Http2FrameType.Ping => text + $" ping={frame.PingData:x16}",
            Http2FrameType.RstStream => text + $" code={frame.ErrorCode}",
            Http2FrameType.GoAway => text + $" last={frame.LastStreamId} code={frame.ErrorCode}",
            Http2FrameType.PushPromise => text + $" promised={frame.PromisedStreamId}",
            _ => text,
        };
    }

    private static void ReadLoop(Http2FrameReader frameReader, byte[] stream)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(stream));
        while (frameReader.TryReadFrame(ref reader, out _, out _) == Http2ReadStatus.Frame)
        {
        }
    }

    private static byte[] SampleStream() =>
    [
        .. Frame(Http2FrameType.Settings, 0, 0, Hex("0001 00001000 0004 0000ffff")),
        .. Frame(Http2FrameType.WindowUpdate, 0, 0, Hex("00100000")),
        .. Frame(Http2FrameType.Headers, 1, 1, Hex("8286")),                  // END_STREAM, no END_HEADERS
        .. Frame(Http2FrameType.Continuation, 4, 1, Hex("8441")),
        .. Frame(Http2FrameType.Data, 8, 1, Hex("03 68656c6c6f 000000")),     // padded "hello"
        .. Frame(Http2FrameType.Ping, 0, 0, Hex("0102030405060708")),
        .. Frame((Http2FrameType)0xfa, 0, 0, Hex("abcd")),                   // extension frame: ignored
        .. Frame(Http2FrameType.Priority, 0, 3, Hex("00000001 10")),
        .. Frame(Http2FrameType.RstStream, 0, 3, Hex("00000008")),
        .. Frame(Http2FrameType.GoAway, 0, 0, Hex("00000007 00000000 627965")),
        .. Frame(Http2FrameType.Data, 1, 1, []),
    ];

    private static int[] FrameBoundaries(byte[] stream)
    {
        var boundaries = new List<int> { 0 };
        int position = 0;
        while (position < stream.Length)
        {
            position += 9 + ((stream[position] << 16) | (stream[position + 1] << 8) | stream[position + 2]);
            boundaries.Add(position);
        }

        return [.. boundaries];
    }

    private static List<string> ReadAll(ReadOnlySequence<byte> input, out long consumed, out Http2ReadStatus last)
    {
        var frameReader = new Http2FrameReader();
        var reader = new SequenceReader<byte>(input);
        var frames = new List<string>();
        while (true)
        {
            long before = reader.Consumed;
            last = frameReader.TryReadFrame(ref reader, out Http2Frame frame, out Http2FrameError error);
            if (last != Http2ReadStatus.Frame)
            {
                Assert.Equal(Http2ReadStatus.NeedMoreData, last);
                Assert.Equal(before, reader.Consumed);
                consumed = reader.Consumed;
                return frames;
            }

            frames.Add(Describe(frame));
        }
    }
}
