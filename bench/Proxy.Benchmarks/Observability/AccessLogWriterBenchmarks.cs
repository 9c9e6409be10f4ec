using BenchmarkDotNet.Attributes;
using Proxy.Observability.AccessLog;

namespace Proxy.Benchmarks.Observability;

/// <summary>
/// Access log lines end to end: a request path rents, fills and publishes an entry, and the writer's thread wakes,
/// formats it as JSON and writes it (to <see cref="Stream.Null"/>). Each operation publishes a batch big enough to
/// wake the writer and waits until it has written the batch, so every line is counted, none dropped. Allocation is
/// measured process-wide (the writer's thread included) and must read zero.
/// </summary>
[MemoryDiagnoser]
public class AccessLogWriterBenchmarks
{
    // A capacity of 256 wakes the writer at 64 queued entries (a quarter), so each batch wakes it at once.
    private const int Batch = 64;

    private static readonly byte[] Path = "/api/items?id=7"u8.ToArray();
    private AccessLogWriter _writer = null!;
    private long _expected;

    [GlobalSetup]
    public void Setup() => _writer = new AccessLogWriter(Stream.Null, ownsOutput: false, capacity: 4 * Batch);

    [GlobalCleanup]
    public void Cleanup() => _writer.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One line: rent, fill, publish, and its share of the writer's wake-up, formatting and write.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void PublishAndWrite()
    {
        var start = DateTime.UtcNow;
        for (int i = 0; i < Batch; i++)
        {
            var entry = _writer.TryRent() ?? throw new InvalidOperationException("every entry in use");
            entry.Kind = AccessLogKind.Http;
            entry.StartTime = start;
            entry.DurationMs = 0.734;
            entry.Protocol = "HTTP/1.1";
            entry.Status = 200;
            entry.BytesReceived = 112;
            entry.BytesSent = 40;
            entry.UpstreamEndpoint = "10.0.0.5:9000";
            entry.Attempts = 1;
            entry.Listener = "web";
            entry.Route = "api";
            entry.Cluster = "api";
            entry.TraceIdHigh = 0x0af7651916cd43dd;
            entry.TraceIdLow = 0x8448eb211c80319c;
            entry.SetMethod("GET"u8);
            entry.SetAuthority("bench.local"u8);
            entry.SetPath(Path);
            entry.SetRequestId("4bf92f35-77b3-4da6-a3ce-929d0e0e4736"u8);
            _writer.Publish(entry);
        }

        _expected += Batch;
        var spin = new SpinWait();
        while (_writer.Written.Value < _expected)
        {
            spin.SpinOnce();
        }
    }
}
