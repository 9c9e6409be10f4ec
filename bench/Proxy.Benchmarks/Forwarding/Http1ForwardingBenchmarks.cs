using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Benchmarks.Forwarding;

/// <summary>
/// One keep-alive HTTP/1.1 request through the real proxy over loopback sockets: parse, route,
/// pick, pooled upstream connection, forward head, relay response, metrics. The client and the
/// upstream allocate nothing, so MemoryDiagnoser's "Allocated" column is what the proxy allocates
/// per request (process-wide measurement).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InlineCompletionsConfig))]
public class Http1ForwardingBenchmarks
{
    private static readonly byte[] Request = "GET /api/items?id=7 HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\nX-Request-Id: 4bf92f35-77b3-4da6-a3ce-929d0e0e4736\r\n\r\n"u8.ToArray();

    private LoopbackHttpUpstream _upstream = null!;
    private ProxyRuntime _runtime = null!;
    private Socket _client = null!;
    private readonly byte[] _receive = new byte[4096];
    private int _responseLength;

    [GlobalSetup]
    public void Setup()
    {
        _upstream = new LoopbackHttpUpstream();
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
              - { name: api, endpoints: [ 127.0.0.1:{{_upstream.Port}} ] }
            """, "bench.yaml");
        var log = new Logger(TextWriter.Null, LogLevel.Error);
        _runtime = new ProxyRuntime(new ProxyMetrics(new MetricsRegistry()), log);
        _runtime.ApplyAsync(config.Config!).GetAwaiter().GetResult();
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _client.Connect(_runtime.BoundAddresses["web"]);

        // Learn the forwarded response's length once; every later response is identical.
        _client.Send(Request);
        Thread.Sleep(200);
        _responseLength = _client.Receive(_receive);
    }

    [Benchmark(Description = "HTTP/1.1 keep-alive request through the proxy")]
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ForwardRequest()
    {
        await _client.SendAsync(Request.AsMemory(), SocketFlags.None).ConfigureAwait(false);
        var received = 0;
        while (received < _responseLength)
        {
            received += await _client.ReceiveAsync(_receive.AsMemory(received), SocketFlags.None).ConfigureAwait(false);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _upstream.Dispose();
    }
}

/// <summary>
/// The proxy's production scheduling: socket continuations inline (see DESIGN.md). A short job of
/// its own, because a <c>--job</c> on the command line would replace it and lose the variable.
/// </summary>
internal sealed class InlineCompletionsConfig : ManualConfig
{
    public InlineCompletionsConfig() =>
        AddJob(Job.ShortRun.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")).AsDefault());
}
