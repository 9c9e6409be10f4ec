using System.Text;
using System.Text.Json;
using Proxy.Observability.AccessLog;

namespace Proxy.Tests.Observability;

public class AccessLogWriterTests
{
    private static void Fill(AccessLogEntry entry, int i)
    {
        entry.StartTime = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddMilliseconds(i);
        entry.DurationMs = 12.3456;
        entry.SetMethod("GET"u8);
        entry.SetAuthority("api.local"u8);
        entry.SetPath(Encoding.ASCII.GetBytes($"/items/{i}?q=\"x\""));
        entry.SetRequestId("req-1"u8);
        entry.Protocol = "HTTP/1.1";
        entry.Status = 503;
        entry.BytesReceived = 10;
        entry.BytesSent = 20;
        entry.UpstreamEndpoint = "10.0.0.5:9000";
        entry.ResponseFlags = "UO";
        entry.Attempts = 2;
        entry.PeerIdentity = "spiffe://mesh.local/ns/a/sa/b";
        entry.TraceIdHigh = 0x0af7651916cd43dd;
        entry.TraceIdLow = 0x8448eb211c80319c;
        entry.Listener = "web";
        entry.Route = "api";
        entry.Cluster = "api";
    }

    [Fact]
    public async Task Publish_Entries_OneJsonLineEach()
    {
        var output = new MemoryStream();
        var writer = new AccessLogWriter(output, ownsOutput: false, capacity: 16);
        for (int i = 0; i < 3; i++)
        {
            var entry = writer.TryRent()!;
            Fill(entry, i);
            writer.Publish(entry);
        }

        await writer.DisposeAsync();
        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        using var doc = JsonDocument.Parse(lines[1]);
        var root = doc.RootElement;
        Assert.Equal("2025-01-02T03:04:05.001Z", root.GetProperty("start_time").GetString());
        Assert.Equal(12.346, root.GetProperty("duration_ms").GetDouble());
        Assert.Equal("GET", root.GetProperty("method").GetString());
        Assert.Equal("api.local", root.GetProperty("authority").GetString());
        Assert.Equal("/items/1?q=\"x\"", root.GetProperty("path").GetString());
        Assert.Equal("HTTP/1.1", root.GetProperty("protocol").GetString());
        Assert.Equal(503, root.GetProperty("status").GetInt32());
        Assert.Equal(10, root.GetProperty("bytes_received").GetInt64());
        Assert.Equal(20, root.GetProperty("bytes_sent").GetInt64());
        Assert.Equal("10.0.0.5:9000", root.GetProperty("upstream_host").GetString());
        Assert.Equal("UO", root.GetProperty("response_flags").GetString());
        Assert.Equal(2, root.GetProperty("attempts").GetInt32());
        Assert.Equal("spiffe://mesh.local/ns/a/sa/b", root.GetProperty("peer_identity").GetString());
        Assert.Equal("req-1", root.GetProperty("request_id").GetString());
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", root.GetProperty("trace_id").GetString());
        Assert.Equal("web", root.GetProperty("listener").GetString());
        Assert.Equal("api", root.GetProperty("cluster").GetString());
        Assert.Equal(3, writer.Written.Value);
    }

    [Fact]
    public async Task Publish_TcpEntry_NoHttpFields()
    {
        var output = new MemoryStream();
        var writer = new AccessLogWriter(output, ownsOutput: false, capacity: 4);
        var entry = writer.TryRent()!;
        entry.Kind = AccessLogKind.Tcp;
        entry.Protocol = "TCP";
        entry.Listener = "db";
        writer.Publish(entry);
        await writer.DisposeAsync();
        using var doc = JsonDocument.Parse(output.ToArray());
        Assert.Equal("tcp", doc.RootElement.GetProperty("kind").GetString());
        Assert.False(doc.RootElement.TryGetProperty("status", out _));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("route").ValueKind);
        Assert.Equal("-", doc.RootElement.GetProperty("response_flags").GetString());
    }

    [Fact]
    public async Task TryRent_AllInUse_DropsAndCounts()
    {
        var writer = new AccessLogWriter(new MemoryStream(), capacity: 2);
        Assert.NotNull(writer.TryRent());
        Assert.NotNull(writer.TryRent());
        Assert.Null(writer.TryRent());
        Assert.Equal(1, writer.Dropped.Value);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Publish_BackgroundDrain_ReusesEntriesWithoutDispose()
    {
        var output = new MemoryStream();
        var writer = new AccessLogWriter(output, ownsOutput: false, capacity: 2, flushInterval: TimeSpan.FromMilliseconds(5));
        int published = 0;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (published < 50 && DateTime.UtcNow < deadline)
        {
            if (writer.TryRent() is { } entry)
            {
                Fill(entry, published);
                writer.Publish(entry);
                published++;
            }
            else
            {
                await Task.Delay(1);
            }
        }

        await writer.DisposeAsync();
        Assert.Equal(50, published);
        Assert.Equal(50, writer.Written.Value);
    }

    [Fact]
    public async Task Publish_AfterABatch_WrittenWithinFlushInterval()
    {
        // After writing a line the writer sleeps a flush interval (it batches); the next line waits at most that long.
        var writer = new AccessLogWriter(new MemoryStream(), capacity: 16, flushInterval: TimeSpan.FromMilliseconds(50));
        await PublishAndWaitAsync(writer, 1, 1);
        await PublishAndWaitAsync(writer, 1, 2);
        await PublishAndWaitAsync(writer, 1, 3);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Publish_QuarterOfCapacityQueued_WakesWriterBeforeFlushInterval()
    {
        // An hour's flush interval: only the early wake-up (4 of 16 entries queued) can write these lines in time.
        var writer = new AccessLogWriter(new MemoryStream(), capacity: 16, flushInterval: TimeSpan.FromHours(1));
        await PublishAndWaitAsync(writer, 1, 1);
        await PublishAndWaitAsync(writer, 4, 5);
        await PublishAndWaitAsync(writer, 8, 13);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Dispose_WhileWriterSleeps_WritesEveryPublishedLine()
    {
        var output = new MemoryStream();
        var writer = new AccessLogWriter(output, ownsOutput: false, capacity: 16, flushInterval: TimeSpan.FromHours(1));
        await PublishAndWaitAsync(writer, 1, 1);
        for (int i = 0; i < 2; i++)
        {
            var entry = writer.TryRent()!;
            Fill(entry, i);
            writer.Publish(entry);
        }

        var dispose = writer.DisposeAsync().AsTask();
        Assert.Same(dispose, await Task.WhenAny(dispose, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.Equal(3, writer.Written.Value);
        Assert.Equal(3, Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    private static async Task PublishAndWaitAsync(AccessLogWriter writer, int count, long written)
    {
        for (int i = 0; i < count; i++)
        {
            var entry = writer.TryRent()!;
            Fill(entry, i);
            writer.Publish(entry);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (writer.Written.Value < written && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.Equal(written, writer.Written.Value);
    }

    [Fact]
    public void Entry_LongValues_TruncatedToCapacity_AndClearForgets()
    {
        var entry = new AccessLogEntry();
        entry.SetPath(new byte[AccessLogEntry.ByteCapacity + 100]);
        entry.SetMethod("GET"u8);
        Assert.Equal(AccessLogEntry.ByteCapacity, entry.Path.Length);
        Assert.Equal(0, entry.Method.Length);
        entry.Clear();
        entry.SetMethod("PUT"u8);
        Assert.Equal("PUT"u8.ToArray(), entry.Method.ToArray());
        Assert.Equal(0, entry.Path.Length);
    }

    [Fact]
    public async Task Format_NonUtf8Path_WrittenAsLatin1()
    {
        var output = new MemoryStream();
        var writer = new AccessLogWriter(output, ownsOutput: false, capacity: 2);
        var entry = writer.TryRent()!;
        entry.SetPath([(byte)'/', 0xE9]);
        writer.Publish(entry);
        await writer.DisposeAsync();
        using var doc = JsonDocument.Parse(output.ToArray());
        Assert.Equal("/\u00e9", doc.RootElement.GetProperty("path").GetString());
    }

    [Fact]
    public void BoundedQueue_ConcurrentProducersConsumers_NothingLostOrDuplicated()
    {
        var queue = new BoundedQueue<object>(64);
        var items = Enumerable.Range(0, 4_000).Select(i => (object)i).ToArray();
        var seen = new int[items.Length];
        int produced = 0;
        int consumed = 0;
        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(() =>
        {
            for (int i = p; i < items.Length; i += 2)
            {
                while (!queue.TryEnqueue(items[i]))
                {
                    Thread.Yield();
                }

                Interlocked.Increment(ref produced);
            }
        })).ToArray();
        var consumers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (Volatile.Read(ref consumed) < items.Length)
            {
                if (queue.TryDequeue(out var item))
                {
                    Interlocked.Increment(ref seen[(int)item]);
                    Interlocked.Increment(ref consumed);
                }
                else
                {
                    Thread.Yield();
                }
            }
        })).ToArray();
        Task.WaitAll([.. producers, .. consumers]);
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void BoundedQueue_Full_RefusesUntilDequeued()
    {
        var queue = new BoundedQueue<string>(3);
        Assert.Equal(4, queue.Capacity);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(queue.TryEnqueue(i.ToString()));
        }

        Assert.False(queue.TryEnqueue("x"));
        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal("0", first);
        Assert.True(queue.TryEnqueue("x"));
        Assert.Equal(4, queue.Count);
    }
}
