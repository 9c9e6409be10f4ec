using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Proxy.Http.Http1;

namespace Proxy.Benchmarks.Http1;

/// <summary>
/// Parsing a typical browser-like request head (10 fields) and writing it forwarded, the work the
/// HTTP/1.1 forwarder does per request before any body byte moves. Must stay at 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class Http1ParserBenchmarks
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes(
        "GET /api/v1/catalog/items?page=2&sort=price HTTP/1.1\r\n"
        + "Host: shop.example.com\r\n"
        + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
        + "Accept: application/json, text/plain, */*\r\n"
        + "Accept-Encoding: gzip, deflate, br\r\n"
        + "Accept-Language: en-US,en;q=0.9\r\n"
        + "Connection: keep-alive\r\n"
        + "Cookie: session=3f2a9c1e; theme=dark\r\n"
        + "Referer: https://shop.example.com/catalog\r\n"
        + "X-Forwarded-For: 203.0.113.7\r\n"
        + "Cache-Control: no-cache\r\n"
        + "\r\n");

    private static readonly byte[] ClientAddress = "10.1.2.3"u8.ToArray();

    private readonly Http1RequestHead _head = new();
    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _split;

    [GlobalSetup]
    public void Setup()
    {
        _single = new ReadOnlySequence<byte>(Request);
        int half = Request.Length / 2;
        var first = new Segment(Request.AsMemory(0, half), 0);
        Segment last = first.Append(Request.AsMemory(half));
        _split = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    [Benchmark(Baseline = true)]
    public int Parse()
    {
        _head.Reset();
        var reader = new SequenceReader<byte>(_single);
        _head.TryParse(ref reader, out _);
        return _head.Fields.Length;
    }

    [Benchmark]
    public int ParseSplit()
    {
        _head.Reset();
        var reader = new SequenceReader<byte>(_split);
        _head.TryParse(ref reader, out _);
        return _head.Fields.Length;
    }

    [Benchmark]
    public int ParseAndWriteForwarded()
    {
        _head.Reset();
        var reader = new SequenceReader<byte>(_single);
        _head.TryParse(ref reader, out _);
        _output.ResetWrittenCount();
        Http1HeadWriter.WriteRequest(_output, _head, new Http1ForwardOptions
        {
            Connection = "keep-alive"u8,
            ForwardedFor = ClientAddress,
            ForwardedProto = "https"u8,
            RequestId = "0af7651916cd43dd8448eb211c80319c"u8,
        });
        return _output.WrittenCount;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
