using System.Buffers;
using System.Text;
using Proxy.Http.Http2;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The HTTP/2 frame reader (<see cref="Http2FrameReader"/>) over a byte stream of frames, read whole and cut into
/// segments: both must give the same frames and errors. Checks per frame: a frame is consumed exactly (header plus
/// declared length), its payload and padding fit inside it, and a SETTINGS frame it accepted applies without error.
/// </summary>
public static class Http2FrameTarget
{
    public static FuzzTarget Target { get; } = new("h2-frames", "HTTP/2 frames: whole = split; payload bounds; SETTINGS apply", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte control = FuzzInput.TakeControl(ref input);
        int maxFrameSize = (control & 1) != 0 ? Http2Settings.MaxAllowedFrameSize : Http2Settings.DefaultMaxFrameSize;
        string whole = ReadAll(FuzzInput.Whole(input), maxFrameSize);
        string split = ReadAll(FuzzInput.Segmented(input, control), maxFrameSize);
        FuzzFinding.Check(whole == split, $"whole and split input disagree:\n{whole}\n{split}");
    }

    private static string ReadAll(ReadOnlySequence<byte> data, int maxFrameSize)
    {
        var frames = new Http2FrameReader { MaxFrameSize = maxFrameSize };
        var settings = new Http2Settings();
        var result = new StringBuilder();
        var reader = new SequenceReader<byte>(data);
        while (true)
        {
            long before = reader.Consumed;
            Http2ReadStatus status = frames.TryReadFrame(ref reader, out Http2Frame frame, out Http2FrameError error);
            long consumed = reader.Consumed - before;
            switch (status)
            {
                case Http2ReadStatus.NeedMoreData:
                    FuzzFinding.Check(consumed == 0, "need-more consumed input");
                    return result.Append("need-more").ToString();

                case Http2ReadStatus.ConnectionError:
                    FuzzFinding.Check(consumed == 0, "a connection error consumed input");
                    FuzzFinding.Check(error.IsConnectionError, "a connection error that says it is a stream error");
                    return result.Append("connection-error ").Append(error.Code).Append(' ').Append(error.Reason).ToString();

                case Http2ReadStatus.StreamError:
                    FuzzFinding.Check(!error.IsConnectionError, "a stream error that says it is a connection error");
                    result.Append("stream-error ").Append(error.Code).Append(' ').Append(error.StreamId).Append(' ');
                    break;
            }

            Http2FrameHeader header = frame.Header;
            FuzzFinding.Check(consumed == Http2FrameHeader.Size + header.Length, $"frame {header} consumed {consumed} bytes");
            FuzzFinding.Check(frame.Payload.Length + frame.PadLength <= header.Length, $"frame {header} payload and padding exceed its length");
            if (status == Http2ReadStatus.Frame && frame.Type == Http2FrameType.Settings && !frame.IsAck)
            {
                FuzzFinding.Check(settings.Apply(frame.Payload) == Http2ErrorCode.NoError, "an accepted SETTINGS frame does not apply");
            }

            result.Append(header).Append(" payload=").Append(frame.Payload.Length).Append(" pad=").Append(frame.PadLength)
                .Append(" value=").Append(frame.WindowSizeIncrement).Append(" ping=").Append(frame.PingData).Append('\n');
        }
    }
}
