using BenchmarkDotNet.Attributes;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Benchmarks.Forwarding;

/// <summary>
/// HTTP/2 streams through the real proxy over loopback sockets: h2c downstream (prior knowledge),
/// routing, a multiplexed HTTP/2 upstream connection or pooled HTTP/1.1 ones, response headers and body
/// relayed, metrics. The raw client and upstreams (<see cref="RawHttp2Client"/>, <see cref="LoopbackHttp2Upstream"/>,
/// <see cref="LoopbackHttpUpstream"/>) allocate nothing, so MemoryDiagnoser's "Allocated" column divided by <see cref="Streams"/> is
/// what the proxy allocates per stream (process-wide measurement).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InlineCompletionsConfig))]
public class Http2ForwardingBenchmarks
{
    private IDisposable _upstream = null!;
    private ProxyRuntime _runtime = null!;
    private RawHttp2Client _client = null!;

    /// <summary>Streams opened at once per operation (one write), all on one downstream connection.</summary>
    [Params(1, 16)]
    public int Streams { get; set; }

    /// <summary>The cluster's protocol: <c>http2</c> (one multiplexed connection) or <c>http1</c> (a connection per stream in flight).</summary>
    [Params("http2", "http1")]
    public string Upstream { get; set; } = "http2";

    [GlobalSetup]
    public void Setup()
    {
        int port;
        if (Upstream == "http1")
        {
            var http1 = new LoopbackHttpUpstream();
            (_upstream, port) = (http1, http1.Port);
        }
        else
        {
            var http2 = new LoopbackHttp2Upstream();
            (_upstream, port) = (http2, http2.Port);
        }

        var config = ConfigLoader.LoadText($$"""
            admin: { address: 127.0.0.1:0 }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { match: { path_prefix: /api }, cluster: api }
            clusters:
              - { name: api, protocol: {{Upstream}}, endpoints: [ 127.0.0.1:{{port}} ] }
            """, "bench.yaml");
        var log = new Logger(TextWriter.Null, LogLevel.Error);
        _runtime = new ProxyRuntime(new ProxyMetrics(new MetricsRegistry()), log);
        _runtime.ApplyAsync(config.Config!).GetAwaiter().GetResult();
        _client = new RawHttp2Client("bench.local", "/api/items?id=7");
        _client.ConnectAsync(_runtime.BoundAddresses["web"]).GetAwaiter().GetResult();
    }

    [Benchmark(Description = "HTTP/2 streams through the proxy (h2c -> h2 or h1)")]
    public ValueTask ForwardStreams() => _client.RoundTripAsync(Streams);

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _upstream.Dispose();
    }
}
