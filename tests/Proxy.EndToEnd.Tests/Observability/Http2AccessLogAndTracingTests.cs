using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>
/// Requests an HTTP/2 client sends get what HTTP/1.1 requests get (see <see cref="AccessLogAndTracingTests"/>): an
/// access-log line, a span that is a child of the client's W3C or B3 context, and the proxy's span propagated
/// upstream in place of the client's, whether the upstream speaks HTTP/1.1 or HTTP/2; answers the proxy makes
/// itself are logged with their flag.
/// </summary>
public class Http2AccessLogAndTracingTests : IDisposable
{
    private const string ClientTrace = "0af7651916cd43dd8448eb211c80319c";
    private const string ClientSpan = "b7ad6b7169203331";
    private const string B3Trace = "463ac35c9f6413ad48485a3953bb6124";
    private const string B3Span = "a2fb4a1d1a96d312";

    private readonly AccessLogFolder _log = new("proxy-h2-obs-");

    private string AccessLog => _log.Path;

    [Theory]
    [InlineData("http1")]
    [InlineData("http2")]
    public async Task Http2Client_LoggedTracedAndPropagated(string clusterProtocol)
    {
        // What the upstream saw of each request: its path and its regular fields.
        var seen = new ConcurrentQueue<(string Path, List<(string Name, string Value)> Fields)>();
        await using var upstream = clusterProtocol == "http1"
            ? new Upstream(ScriptedHttp1Upstream.Start(exchange =>
            {
                seen.Enqueue((exchange.Path, FieldsOf(exchange.Head)));
                return exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }))
            : new Upstream(RawHttp2Upstream.Start(exchange =>
            {
                seen.Enqueue((exchange.Path, exchange.Headers.Where(h => !h.Name.StartsWith(':')).ToList()));
                return exchange.RespondAsync(200, "ok");
            }));
        await using var collector = await OtlpCollector.StartAsync();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            log: { access_log: {{AccessLog}} }
            tracing: { collector: "http://127.0.0.1:{{collector.Port}}", service_name: edge-proxy }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { name: api, match: { path_prefix: /api }, cluster: backend }
            clusters:
              - { name: backend, protocol: {{clusterProtocol}}, endpoints: [ {{upstream.Address}} ] }
            """);
        using var client = Http2ProxyTests.H2Client(proxy);

        // 1. W3C context from the client: the upstream gets one traceparent, same trace, the proxy's span.
        using var w3c = new HttpRequestMessage(HttpMethod.Get, "/api/items?id=7");
        w3c.Version = HttpVersion.Version20; // a message made by hand asks for HTTP/1.1 otherwise
        w3c.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        w3c.Headers.Add("traceparent", $"00-{ClientTrace}-{ClientSpan}-01");
        w3c.Headers.Add("x-request-id", "req-h2");
        using (var response = await client.SendAsync(w3c))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
        }

        // 2. B3 from the client: traceparent and b3 both name the proxy's span, b3 with the client's as parent.
        using var b3 = new HttpRequestMessage(HttpMethod.Get, "/api/b3");
        b3.Version = HttpVersion.Version20; // a message made by hand asks for HTTP/1.1 otherwise
        b3.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        b3.Headers.Add("b3", $"{B3Trace}-{B3Span}-1");
        using (var response = await client.SendAsync(b3))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // 3. No route: answered by the proxy, logged with its flag, traced as a new root.
        using (var response = await client.GetAsync("/nothing-here"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("no-route", response.Headers.GetValues("x-proxy-error").Single());
        }

        var received = seen.ToArray();
        Assert.Equal(["/api/items?id=7", "/api/b3"], received.Select(r => r.Path));
        var forwarded = TraceParentOf(received[0].Fields);
        Assert.Equal(ClientTrace, forwarded.TraceId);
        Assert.NotEqual(ClientSpan, forwarded.SpanId);
        Assert.DoesNotContain(received[0].Fields, f => f.Name == "b3");
        var fromB3 = TraceParentOf(received[1].Fields);
        Assert.Equal(B3Trace, fromB3.TraceId);
        Assert.Equal($"{B3Trace}-{fromB3.SpanId}-1-{B3Span}", Assert.Single(received[1].Fields, f => f.Name == "b3").Value);

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(collector.Spans.Count >= 3), TimeSpan.FromSeconds(15)), "spans never reached the collector");
        var child = collector.Spans.Single(s => s.TraceId == ClientTrace);
        Assert.Equal(ClientSpan, child.ParentSpanId);
        Assert.Equal(forwarded.SpanId, child.SpanId);
        var b3Child = collector.Spans.Single(s => s.TraceId == B3Trace);
        Assert.Equal(B3Span, b3Child.ParentSpanId);
        Assert.Equal(fromB3.SpanId, b3Child.SpanId);

        var lines = await AccessLogAsync(3);
        var ok = lines.Single(l => l.GetProperty("path").GetString() == "/api/items");
        Assert.Equal("http", ok.GetProperty("kind").GetString());
        Assert.Equal("GET", ok.GetProperty("method").GetString());
        Assert.Equal(proxy.Listener("web").ToString(), ok.GetProperty("authority").GetString());
        Assert.Equal("HTTP/2", ok.GetProperty("protocol").GetString());
        Assert.Equal(200, ok.GetProperty("status").GetInt32());
        Assert.Equal("-", ok.GetProperty("response_flags").GetString());
        Assert.Equal(upstream.Address, ok.GetProperty("upstream_host").GetString());
        Assert.Equal(1, ok.GetProperty("attempts").GetInt32());
        Assert.Equal("req-h2", ok.GetProperty("request_id").GetString());
        Assert.Equal(ClientTrace, ok.GetProperty("trace_id").GetString());
        Assert.Equal("web", ok.GetProperty("listener").GetString());
        Assert.Equal("api", ok.GetProperty("route").GetString());
        Assert.Equal("backend", ok.GetProperty("cluster").GetString());
        Assert.True(ok.GetProperty("bytes_received").GetInt64() > 0);
        Assert.True(ok.GetProperty("bytes_sent").GetInt64() >= 2);
        Assert.True(ok.GetProperty("duration_ms").GetDouble() >= 0);

        var noRoute = lines.Single(l => l.GetProperty("path").GetString() == "/nothing-here");
        Assert.Equal(404, noRoute.GetProperty("status").GetInt32());
        Assert.Equal("NR", noRoute.GetProperty("response_flags").GetString());
        Assert.Equal("HTTP/2", noRoute.GetProperty("protocol").GetString());
        Assert.Equal(0, noRoute.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, noRoute.GetProperty("upstream_host").ValueKind);
        Assert.Equal(JsonValueKind.Null, noRoute.GetProperty("route").ValueKind);
        Assert.Equal(36, noRoute.GetProperty("request_id").GetString()!.Length); // made by the proxy
        Assert.Equal(32, noRoute.GetProperty("trace_id").GetString()!.Length);
    }

    [Fact]
    public async Task Http2Client_UpstreamDown_LoggedWithConnectFailureFlag()
    {
        int dead = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            log: { access_log: {{AccessLog}} }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { name: dead, match: { path_prefix: / }, cluster: backend }
            clusters:
              - { name: backend, endpoints: [ 127.0.0.1:{{dead}} ] }
            """);
        using var client = Http2ProxyTests.H2Client(proxy);

        using var response = await client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);

        var entry = Assert.Single(await AccessLogAsync(1));
        Assert.Equal(502, entry.GetProperty("status").GetInt32());
        Assert.Equal("UF", entry.GetProperty("response_flags").GetString());
        Assert.Equal(1, entry.GetProperty("attempts").GetInt32());
        Assert.Equal("dead", entry.GetProperty("route").GetString());
        Assert.Equal("backend", entry.GetProperty("cluster").GetString());
    }

    /// <summary>
    /// Without a collector the proxy's span goes nowhere, so it must not become the upstream's parent: the app's
    /// spans would point at a span no backend ever receives. The client's trace context crosses untouched (as Envoy
    /// and Linkerd leave it when tracing is off), and none is made up for a request that came without one.
    /// </summary>
    [Theory]
    [InlineData("http1", false)]
    [InlineData("http1", true)]
    [InlineData("http2", false)]
    [InlineData("http2", true)]
    public async Task NoCollector_ClientTraceContextCrossesUntouched(string clusterProtocol, bool http2Client)
    {
        var seen = new ConcurrentQueue<List<(string Name, string Value)>>();
        await using var upstream = clusterProtocol == "http1"
            ? new Upstream(ScriptedHttp1Upstream.Start(exchange =>
            {
                seen.Enqueue(FieldsOf(exchange.Head));
                return exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }))
            : new Upstream(RawHttp2Upstream.Start(exchange =>
            {
                seen.Enqueue(exchange.Headers.Where(h => !h.Name.StartsWith(':')).ToList());
                return exchange.RespondAsync(200, "ok");
            }));
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, clusterProtocol, listenerProtocol: "auto"));
        using var client = Http2ProxyTests.H2Client(proxy);
        var version = http2Client ? HttpVersion.Version20 : HttpVersion.Version11;

        string traceParent = $"00-{ClientTrace}-{ClientSpan}-01", b3 = $"{B3Trace}-{B3Span}-1";
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/with-context") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            request.Headers.Add("traceparent", traceParent);
            request.Headers.Add("tracestate", "vendor=1");
            request.Headers.Add("b3", b3);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/without-context") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }

        var requests = seen.ToArray();
        Assert.Equal(2, requests.Length);
        var (withContext, withoutContext) = (requests[0], requests[1]);
        Assert.Equal(traceParent, Assert.Single(withContext, f => f.Name == "traceparent").Value);
        Assert.Equal("vendor=1", Assert.Single(withContext, f => f.Name == "tracestate").Value);
        Assert.Equal(b3, Assert.Single(withContext, f => f.Name == "b3").Value);
        Assert.DoesNotContain(withoutContext, f => f.Name is "traceparent" or "b3");
    }

    private static (string TraceId, string SpanId) TraceParentOf(List<(string Name, string Value)> fields)
    {
        var parts = Assert.Single(fields, f => f.Name.Equals("traceparent", StringComparison.OrdinalIgnoreCase)).Value.Split('-');
        return (parts[1], parts[2]);
    }

    /// <summary>The field lines of an HTTP/1.1 head, names lowercased.</summary>
    private static List<(string Name, string Value)> FieldsOf(string head) => head.Split("\r\n").Skip(1)
        .Where(line => line.Contains(':'))
        .Select(line => (line[..line.IndexOf(':')].ToLowerInvariant(), line[(line.IndexOf(':') + 1)..].Trim()))
        .ToList();

    private Task<List<JsonElement>> AccessLogAsync(int count) => _log.ReadAsync(count);

    public void Dispose() => _log.Dispose();

    /// <summary>An HTTP/1.1 or HTTP/2 upstream behind one address.</summary>
    private sealed class Upstream : IAsyncDisposable
    {
        private readonly IAsyncDisposable _server;

        public Upstream(ScriptedHttp1Upstream server) => (_server, Address) = (server, server.Address);

        public Upstream(RawHttp2Upstream server) => (_server, Address) = (server, server.Address);

        public string Address { get; }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
