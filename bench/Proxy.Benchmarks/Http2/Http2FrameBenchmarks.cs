using System.Buffers;
using BenchmarkDotNet.Attributes;
using Proxy.Http.Http2;

namespace Proxy.Benchmarks.Http2;

/// <summary>Reading and writing a typical burst of frames: HEADERS, DATA, WINDOW_UPDATE, PING ACK, SETTINGS ACK.</summary>
[MemoryDiagnoser]
public class Http2FrameBenchmarks
{
    private readonly byte[] _headerBlock = new byte[120];
    private readonly byte[] _data = new byte[1024];
    private readonly FixedBufferWriter _writer = new(64 * 1024);
    private readonly Http2FrameReader _frameReader = new();
    private ReadOnlySequence<byte> _input;

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_headerBlock);
        new Random(2).NextBytes(_data);
        WriteBurst(_writer, _headerBlock, _data);
        _input = new ReadOnlySequence<byte>(_writer.Written.ToArray());
    }

    [Benchmark]
    public int ReadFrames()
    {
        var reader = new SequenceReader<byte>(_input);
        int count = 0;
        while (_frameReader.TryReadFrame(ref reader, out Http2Frame frame, out _) == Http2ReadStatus.Frame)
        {
            count += frame.Header.Length;
        }

        return count;
    }

    [Benchmark]
    public int WriteFrames()
    {
        _writer.Reset();
        WriteBurst(_writer, _headerBlock, _data);
        return _writer.Written.Length;
    }

    private static void WriteBurst(IBufferWriter<byte> output, byte[] headerBlock, byte[] data)
    {
        for (int stream = 1; stream <= 9; stream += 2)
        {
            Http2FrameWriter.WriteHeaders(output, stream, headerBlock, endStream: false, maxFrameSize: 16384);
            Http2FrameWriter.WriteData(output, stream, data, endStream: true, maxFrameSize: 16384);
            Http2FrameWriter.WriteWindowUpdate(output, stream, data.Length);
        }

        Http2FrameWriter.WritePing(output, 0x1122334455667788, ack: true);
        Http2FrameWriter.WriteSettingsAck(output);
    }
}
