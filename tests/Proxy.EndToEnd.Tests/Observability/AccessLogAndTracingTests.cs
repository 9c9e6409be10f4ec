using System.Text.Json;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>An access-log line per request, and spans exported to an OTLP collector with ids that match the propagated headers.</summary>
public class AccessLogAndTracingTests
{
    [Fact]
    public async Task Requests_LoggedAndTraced_IdsMatchPropagation()
    {
        await using var upstream = await KestrelUpstream.StartAsync("traced");
        await using var collector = await OtlpCollector.StartAsync();
        var folder = Directory.CreateTempSubdirectory("proxy-obs-").FullName;
        var accessLog = Path.Combine(folder, "access.log");
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            log: { access_log: {{accessLog}} }
            tracing: { collector: "http://127.0.0.1:{{collector.Port}}", service_name: edge-proxy }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { name: api, match: { path_prefix: / }, cluster: backend }
            clusters:
              - { name: backend, endpoints: [ {{upstream.Address}} ] }
            """);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}") };

        // 1. The client sends a W3C context: the proxy's span is its child, and the upstream sees the proxy's span as parent.
        const string clientTrace = "0af7651916cd43dd8448eb211c80319c";
        const string clientSpan = "b7ad6b7169203331";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers");
        request.Headers.Add("traceparent", $"00-{clientTrace}-{clientSpan}-01");
        request.Headers.Add("x-request-id", "req-one");
        var seen = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
        var forwarded = TraceParentIn(seen);
        Assert.Equal(clientTrace, forwarded.TraceId);
        Assert.NotEqual(clientSpan, forwarded.SpanId);

        // 2. No context: the proxy starts a trace and passes it on.
        var seen2 = await client.GetStringAsync("/headers");
        var rooted = TraceParentIn(seen2);
        Assert.NotEqual(clientTrace, rooted.TraceId);

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(collector.Spans.Count >= 2), TimeSpan.FromSeconds(15)), "spans never reached the collector");
        var child = collector.Spans.Single(s => s.TraceId == clientTrace);
        Assert.Equal(clientSpan, child.ParentSpanId);
        Assert.Equal(forwarded.SpanId, child.SpanId);
        var root = collector.Spans.Single(s => s.TraceId == rooted.TraceId);
        Assert.Equal(rooted.SpanId, root.SpanId);
        Assert.True(string.IsNullOrEmpty(root.ParentSpanId));
        Assert.Contains("edge-proxy", collector.Bodies.First());

        // One access-log line per request, with the same ids.
        string[] lines = [];
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            lines = File.Exists(accessLog) ? await File.ReadAllLinesAsync(accessLog) : [];
            return lines.Length >= 2;
        }, TimeSpan.FromSeconds(15)), "access log lines missing");
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        var entry = first.RootElement;
        Assert.Equal("GET", entry.GetProperty("method").GetString());
        Assert.Equal("/headers", entry.GetProperty("path").GetString());
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal("req-one", entry.GetProperty("request_id").GetString());
        Assert.Equal(clientTrace, entry.GetProperty("trace_id").GetString());
        Assert.Equal("api", entry.GetProperty("route").GetString());
        Assert.Equal(upstream.Address, entry.GetProperty("upstream_host").GetString());
        Assert.Equal("-", entry.GetProperty("response_flags").GetString());
    }

    [Fact]
    public async Task Http1ClientHttp2Upstream_ProxySpanReplacesClients()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<List<(string Name, string Value)>>();
        await using var upstream = Http2.RawHttp2Upstream.Start(exchange =>
        {
            seen.Enqueue(exchange.Headers);
            return exchange.RespondAsync(200, "ok");
        });
        await using var collector = await OtlpCollector.StartAsync(); // the proxy's span is propagated only when exported
        await using var proxy = await RunningProxy.StartAsync($"tracing: {{ collector: \"http://127.0.0.1:{collector.Port}\" }}\n"
            + Http2.Http2Configs.Single(upstream.Address, "http2"));
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}") };

        const string b3Trace = "463ac35c9f6413ad48485a3953bb6124";
        const string b3Span = "a2fb4a1d1a96d312";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/b3");
        request.Headers.Add("b3", $"{b3Trace}-{b3Span}-1");
        Assert.Equal("ok", await (await client.SendAsync(request)).Content.ReadAsStringAsync());

        var fields = Assert.Single(seen);
        var traceParent = Assert.Single(fields, f => f.Name == "traceparent").Value.Split('-');
        Assert.Equal(b3Trace, traceParent[1]);
        Assert.Equal($"{b3Trace}-{traceParent[2]}-1-{b3Span}", Assert.Single(fields, f => f.Name == "b3").Value);
    }

    private static (string TraceId, string SpanId) TraceParentIn(string headers)
    {
        var line = headers.Split('\n').Single(l => l.StartsWith("traceparent: ", StringComparison.Ordinal));
        var parts = line["traceparent: ".Length..].Trim().Split('-');
        return (parts[1], parts[2]);
    }
}
