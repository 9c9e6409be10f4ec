using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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

    private static (string TraceId, string SpanId) TraceParentIn(string headers)
    {
        var line = headers.Split('\n').Single(l => l.StartsWith("traceparent: ", StringComparison.Ordinal));
        var parts = line["traceparent: ".Length..].Trim().Split('-');
        return (parts[1], parts[2]);
    }

    /// <summary>A minimal OTLP/HTTP JSON collector: POST /v1/traces, spans kept for the test.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private OtlpCollector(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public ConcurrentBag<string> Bodies { get; } = [];

        public ConcurrentBag<(string TraceId, string SpanId, string? ParentSpanId)> Spans { get; } = [];

        public static async Task<OtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
            var app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/traces", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var body = await reader.ReadToEndAsync();
                collector.Bodies.Add(body);
                using var json = JsonDocument.Parse(body);
                foreach (var resource in json.RootElement.GetProperty("resourceSpans").EnumerateArray())
                {
                    foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
                    {
                        foreach (var span in scope.GetProperty("spans").EnumerateArray())
                        {
                            collector.Spans.Add((
                                span.GetProperty("traceId").GetString()!,
                                span.GetProperty("spanId").GetString()!,
                                span.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() : null));
                        }
                    }
                }

                return Results.Ok();
            });
            await app.StartAsync();
            collector.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            return collector;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
