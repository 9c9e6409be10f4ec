using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Proxy.Observability.Tracing;

namespace Proxy.Tests.Observability;

public class OtlpExporterTests
{
    [Fact]
    public async Task Publish_ServerAndClientSpans_CollectorReceivesParentChild()
    {
        using var collector = new TinyCollector();
        var exporter = new OtlpExporter(new Uri($"http://127.0.0.1:{collector.Port}"), "edge", flushInterval: TimeSpan.FromMilliseconds(20));
        var generator = new SpanContextGenerator();
        var server = generator.NewRoot(sampled: true);
        var client = generator.NewChild(server);

        var serverSpan = exporter.TryRent()!;
        serverSpan.Name = "api";
        serverSpan.Context = server;
        serverSpan.SetMethod("GET"u8);
        serverSpan.Route = "api";
        serverSpan.StatusCode = 503;
        serverSpan.IsError = true;
        serverSpan.PeerAddress = "10.1.2.3";
        serverSpan.PeerPort = 40000;
        serverSpan.StartUnixNanos = 1_700_000_000_000_000_000;
        serverSpan.EndUnixNanos = 1_700_000_000_005_000_000;

        var clientSpan = exporter.TryRent()!;
        clientSpan.Name = "api upstream";
        clientSpan.Kind = SpanKind.Client;
        clientSpan.Context = client;
        clientSpan.ParentSpanId = server.SpanId;
        clientSpan.UpstreamEndpoint = "10.0.0.5:9000";
        clientSpan.StartUnixNanos = 1_700_000_000_001_000_000;
        clientSpan.EndUnixNanos = 1_700_000_000_004_000_000;

        var unsampled = exporter.TryRent()!;
        unsampled.Context = generator.NewRoot(sampled: false);

        exporter.Publish(serverSpan);
        exporter.Publish(clientSpan);
        exporter.Publish(unsampled);
        await exporter.DisposeAsync();

        Assert.Equal(2, exporter.Exported.Value);
        var body = Assert.Single(collector.Bodies);
        Assert.Equal("/v1/traces", collector.Paths.Single());
        using var doc = JsonDocument.Parse(body);
        var resource = doc.RootElement.GetProperty("resourceSpans")[0];
        Assert.Equal("edge", resource.GetProperty("resource").GetProperty("attributes")[0].GetProperty("value").GetProperty("stringValue").GetString());
        var spans = resource.GetProperty("scopeSpans")[0].GetProperty("spans");
        Assert.Equal(2, spans.GetArrayLength());
        var s = spans[0];
        var c = spans[1];
        Assert.Equal(server.TraceId.ToString(), s.GetProperty("traceId").GetString());
        Assert.Equal(server.SpanId.ToString(), s.GetProperty("spanId").GetString());
        Assert.False(s.TryGetProperty("parentSpanId", out _));
        Assert.Equal(2, s.GetProperty("kind").GetInt32());
        Assert.Equal("1700000000000000000", s.GetProperty("startTimeUnixNano").GetString());
        Assert.Equal(2, s.GetProperty("status").GetProperty("code").GetInt32());
        Assert.Equal(s.GetProperty("traceId").GetString(), c.GetProperty("traceId").GetString());
        Assert.Equal(s.GetProperty("spanId").GetString(), c.GetProperty("parentSpanId").GetString());
        Assert.Equal(3, c.GetProperty("kind").GetInt32());
        var attributes = s.GetProperty("attributes").EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("value"));
        Assert.Equal("GET", attributes["http.method"].GetProperty("stringValue").GetString());
        Assert.Equal("503", attributes["http.status_code"].GetProperty("intValue").GetString());
        Assert.Equal("api", attributes["http.route"].GetProperty("stringValue").GetString());
        Assert.Equal("40000", attributes["net.peer.port"].GetProperty("intValue").GetString());
        Assert.Contains(c.GetProperty("attributes").EnumerateArray(), a => a.GetProperty("key").GetString() == "upstream.endpoint");
    }

    [Fact]
    public async Task Publish_CollectorDown_FailedCounted()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var exporter = new OtlpExporter(new Uri($"http://127.0.0.1:{port}"), flushInterval: TimeSpan.FromMilliseconds(10));
        var span = exporter.TryRent()!;
        span.Context = new SpanContextGenerator().NewRoot(true);
        exporter.Publish(span);
        await exporter.DisposeAsync();
        Assert.Equal(1, exporter.Failed.Value);
        Assert.Equal(0, exporter.Exported.Value);
    }

    [Fact]
    public async Task TryRent_AllInUse_DropsAndCounts()
    {
        var exporter = new OtlpExporter(new Uri("http://127.0.0.1:9"), capacity: 2);
        Assert.NotNull(exporter.TryRent());
        Assert.NotNull(exporter.TryRent());
        Assert.Null(exporter.TryRent());
        Assert.Equal(1, exporter.Dropped.Value);
        await exporter.DisposeAsync();
    }

    /// <summary>An OTLP/HTTP collector for one test: reads each POST (Content-Length body), keeps it, answers 200.</summary>
    private sealed class TinyCollector : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public TinyCollector()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptLoopAsync();
        }

        public int Port { get; }

        public List<string> Bodies { get; } = [];

        public List<string> Paths { get; } = [];

        public void Dispose() => _listener.Stop();

        private async Task AcceptLoopAsync()
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = ServeAsync(socket);
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            using var stream = new NetworkStream(socket, ownsSocket: true);
            var data = new List<byte>();
            var buffer = new byte[8192];
            while (true)
            {
                int headEnd = IndexOf(data, "\r\n\r\n"u8.ToArray());
                if (headEnd >= 0)
                {
                    string head = Encoding.ASCII.GetString(data.GetRange(0, headEnd).ToArray());
                    var lines = head.Split("\r\n");
                    int length = int.Parse(lines.First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Split(':')[1].Trim());
                    while (data.Count < headEnd + 4 + length)
                    {
                        int more = await stream.ReadAsync(buffer);
                        if (more == 0)
                        {
                            return;
                        }

                        data.AddRange(buffer.AsSpan(0, more).ToArray());
                    }

                    lock (Bodies)
                    {
                        Paths.Add(lines[0].Split(' ')[1]);
                        Bodies.Add(Encoding.UTF8.GetString(data.GetRange(headEnd + 4, length).ToArray()));
                    }

                    data.RemoveRange(0, headEnd + 4 + length);
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"u8.ToArray());
                    continue;
                }

                int read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                data.AddRange(buffer.AsSpan(0, read).ToArray());
            }
        }

        private static int IndexOf(List<byte> data, byte[] pattern)
        {
            for (int i = 0; i + pattern.Length <= data.Count; i++)
            {
                int j = 0;
                while (j < pattern.Length && data[i + j] == pattern[j])
                {
                    j++;
                }

                if (j == pattern.Length)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
