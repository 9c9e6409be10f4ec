using BenchmarkDotNet.Attributes;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Benchmarks.Forwarding;

/// <summary>
/// HTTP/2 streams through the real proxy over loopback sockets: h2c downstream (prior knowledge),
/// routing, a multiplexed HTTP/2 upstream connection, response headers and body relayed, metrics.
/// The raw client and upstream (<see cref="RawHttp2Client"/>, <see cref="LoopbackHttp2Upstream"/>)
/// allocate nothing, so MemoryDiagnoser's "Allocated" column divided by <see cref="Streams"/> is
/// what the proxy allocates per stream (process-wide measurement).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InlineCompletionsConfig))]
public class Http2ForwardingBenchmarks
{
    private LoopbackHttp2Upstream _upstream = null!;
    private ProxyRuntime _runtime = null!;
    private RawHttp2Client _client = null!;

    /// <summary>Streams opened at once per operation (one write), all on one downstream connection.</summary>
    [Params(1, 16)]
    public int Streams { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _upstream = new LoopbackHttp2Upstream();
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
              - { name: api, protocol: http2, endpoints: [ 127.0.0.1:{{_upstream.Port}} ] }
            """, "bench.yaml");
        var log = new Logger(TextWriter.Null, LogLevel.Error);
        _runtime = new ProxyRuntime(new ProxyMetrics(new MetricsRegistry()), log);
        _runtime.ApplyAsync(config.Config!).GetAwaiter().GetResult();
        _client = new RawHttp2Client("bench.local", "/api/items?id=7");
        _client.ConnectAsync(_runtime.BoundAddresses["web"]).GetAwaiter().GetResult();
    }

    [Benchmark(Description = "HTTP/2 streams through the proxy (h2c -> h2)")]
    public ValueTask ForwardStreams() => _client.RoundTripAsync(Streams);

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _upstream.Dispose();
    }
}
