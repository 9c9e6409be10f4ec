using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Proxy.Detection;

namespace Proxy.Benchmarks.Detection;

/// <summary>
/// Classifying the first bytes of a connection, once per inbound connection of a sidecar: an
/// HTTP/1 request line, the HTTP/2 preface, and a TLS ClientHello (which also extracts SNI and ALPN).
/// </summary>
[MemoryDiagnoser]
public class ProtocolDetectorBenchmarks
{
    private static readonly ReadOnlySequence<byte> Http1 = new(Encoding.ASCII.GetBytes("GET /api/v1/items?id=7 HTTP/1.1\r\nHost: example.test\r\n\r\n"));
    private static readonly ReadOnlySequence<byte> Http2 = new("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
    private static readonly ReadOnlySequence<byte> ClientHello = new(BuildClientHello("api.mesh.test"));

    [Benchmark]
    public DetectedProtocol RequestLine() => ProtocolDetector.Classify(Http1).Protocol;

    [Benchmark]
    public DetectedProtocol Preface() => ProtocolDetector.Classify(Http2).Protocol;

    [Benchmark]
    public string? TlsClientHello() => ProtocolDetector.Classify(ClientHello).ServerName;

    /// <summary>A minimal TLS 1.3-style ClientHello with SNI and ALPN h2,http/1.1 (RFC 8446, 4.1.2).</summary>
    private static byte[] BuildClientHello(string host)
    {
        var name = Encoding.ASCII.GetBytes(host);
        var sni = new List<byte> { 0, 0 };
        sni.AddRange(U16(name.Length + 5));
        sni.AddRange(U16(name.Length + 3));
        sni.Add(0);
        sni.AddRange(U16(name.Length));
        sni.AddRange(name);
        byte[] alpnList = [2, (byte)'h', (byte)'2', 8, .. "http/1.1"u8];
        var alpn = new List<byte> { 0, 16 };
        alpn.AddRange(U16(alpnList.Length + 2));
        alpn.AddRange(U16(alpnList.Length));
        alpn.AddRange(alpnList);
        var extensions = sni.Concat(alpn).ToArray();

        var body = new List<byte> { 3, 3 };
        body.AddRange(new byte[32]);
        body.Add(0); // session id
        body.AddRange([0, 2, 0x13, 0x01]); // one cipher suite
        body.AddRange([1, 0]); // null compression
        body.AddRange(U16(extensions.Length));
        body.AddRange(extensions);
        var handshake = new List<byte> { 1, 0 };
        handshake.AddRange(U16(body.Count));
        handshake.AddRange(body);
        var record = new List<byte> { 22, 3, 1 };
        record.AddRange(U16(handshake.Count));
        record.AddRange(handshake);
        return [.. record];
    }

    private static byte[] U16(int value) => [(byte)(value >> 8), (byte)value];
}
