using BenchmarkDotNet.Attributes;
using Proxy.Http.Http2.HPack;

namespace Proxy.Benchmarks.Http2;

/// <summary>HPACK encode and decode of a typical browser-like request header block.</summary>
[MemoryDiagnoser]
public class Http2HPackBenchmarks
{
    private static readonly byte[][] s_names =
    [
        ":method"u8.ToArray(), ":scheme"u8.ToArray(), ":authority"u8.ToArray(), ":path"u8.ToArray(),
        "user-agent"u8.ToArray(), "accept"u8.ToArray(), "accept-encoding"u8.ToArray(), "accept-language"u8.ToArray(),
        "x-request-id"u8.ToArray(), "traceparent"u8.ToArray(), "cookie"u8.ToArray(),
    ];

    private static readonly byte[][] s_values =
    [
        "GET"u8.ToArray(), "https"u8.ToArray(), "api.example.com"u8.ToArray(), "/api/v1/users/12345?include=profile"u8.ToArray(),
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"u8.ToArray(),
        "application/json"u8.ToArray(), "gzip, deflate, br"u8.ToArray(), "en-US,en;q=0.9"u8.ToArray(),
        "6f1c2d8e-4b7a-4c61-9f0e-2a5b8c3d7e91"u8.ToArray(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"u8.ToArray(),
        "session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"u8.ToArray(),
    ];

    private readonly byte[] _encodeBuffer = new byte[4096];
    private HPackEncoder _encoder = null!;
    private HPackDecoder _warmDecoder = null!;
    private HPackDecoder _literalDecoder = null!;
    private byte[] _warmBlock = null!;
    private byte[] _literalBlock = null!;

    [GlobalSetup]
    public void Setup()
    {
        _encoder = new HPackEncoder();
        _literalBlock = EncodeBlock(_encoder); // first request: literals with incremental indexing, Huffman
        _warmBlock = EncodeBlock(_encoder);    // later requests: every field indexed

        _warmDecoder = new HPackDecoder();
        var handler = new CountingHandler();
        _warmDecoder.Decode(_literalBlock, ref handler);
        _warmDecoder.Decode(_warmBlock, ref handler);

        // Decoding the literal block again and again inserts every field; once the table is full each insert evicts.
        _literalDecoder = new HPackDecoder();
    }

    /// <summary>Encode the request once the dynamic table holds every field (the steady state of a connection).</summary>
    [Benchmark]
    public int EncodeWarm() => EncodeInto(_encoder, _encodeBuffer);

    /// <summary>Decode a block of indexed fields against a warm table.</summary>
    [Benchmark]
    public int DecodeWarm()
    {
        var handler = new CountingHandler();
        _warmDecoder.Decode(_warmBlock, ref handler);
        return handler.Bytes;
    }

    /// <summary>Decode a block of Huffman literals with incremental indexing (table insert and evict per field).</summary>
    [Benchmark]
    public int DecodeLiterals()
    {
        var handler = new CountingHandler();
        _literalDecoder.Decode(_literalBlock, ref handler);
        return handler.Bytes;
    }

    private static byte[] EncodeBlock(HPackEncoder encoder)
    {
        var buffer = new byte[4096];
        int written = EncodeInto(encoder, buffer);
        return buffer.AsSpan(0, written).ToArray();
    }

    private static int EncodeInto(HPackEncoder encoder, byte[] buffer)
    {
        int position = 0;
        for (int i = 0; i < s_names.Length; i++)
        {
            encoder.TryEncode(s_names[i], s_values[i], HPackIndexing.Incremental, buffer.AsSpan(position), out int written);
            position += written;
        }

        return position;
    }

    private struct CountingHandler : IHPackHeaderHandler
    {
        public int Bytes;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
            Bytes += name.Length + value.Length;
    }
}
