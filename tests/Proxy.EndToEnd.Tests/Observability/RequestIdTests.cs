using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>
/// A request that came without an x-request-id gets one from the proxy, once: every attempt of a retried request
/// carries the same id, and the access-log entry records it too. The next request gets another.
/// </summary>
public class RequestIdTests : IDisposable
{
    private readonly AccessLogFolder _log = new("proxy-request-id-");

    private string AccessLog => _log.Path;

    /// <summary>One listener with an access log; its only route retries a 503 once.</summary>
    private string Config(string endpoint, string clusterProtocol) => $$"""
        admin: { address: 127.0.0.1:0 }
        log: { access_log: {{AccessLog}} }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - match: { path_prefix: / }
                cluster: backend
                retries: { attempts: 1, retry_on: [5xx], backoff_base: 1ms }
        clusters:
          - { name: backend, protocol: {{clusterProtocol}}, endpoints: [ {{endpoint}} ] }
        """;

    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task RetriedRequest_Http1Upstream_OneIdForAttemptsAndAccessLog(string downstream)
    {
        // The first request's first try gets a 503; everything after it succeeds.
        await using var upstream = ScriptedHttp1Upstream.Start(exchange => exchange.Index == 1
            ? exchange.SendAsync("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy")
            : exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, "http1"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        // Two requests on one client connection: the id is made per request, not per connection.
        Assert.Equal("ok", await client.GetStringAsync("/first"));
        Assert.Equal("ok", await client.GetStringAsync("/second"));

        string[] ids = upstream.Received.Select(e => e.Header("x-request-id") ?? "").ToArray();
        Assert.Equal(3, ids.Length);
        Assert.Equal(36, ids[0].Length);
        Assert.Equal(ids[0], ids[1]); // the retry of /first
        Assert.NotEqual(ids[0], ids[2]); // /second
        Assert.All(upstream.Received, e => Assert.Single(e.Head.Split("\r\n"), l => l.StartsWith("x-request-id:", StringComparison.OrdinalIgnoreCase)));

        var logged = await AccessLogAsync(2);
        Assert.Equal(("/first", ids[0], 2), logged[0]);
        Assert.Equal(("/second", ids[2], 1), logged[1]);
    }

    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task RetriedRequest_Http2Upstream_OneIdForAttempts(string downstream)
    {
        var tries = new ConcurrentQueue<(string Path, string Id)>();
        await using var upstream = RawHttp2Upstream.Start(exchange =>
        {
            tries.Enqueue((exchange.Path, exchange.Header("x-request-id") ?? ""));
            return tries.Count == 1 ? exchange.RespondAsync(503, "busy") : exchange.RespondAsync(200, "ok");
        });
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, "http2"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var response = await client.GetAsync("/first");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, upstream.Requests);
        Assert.Equal("ok", await client.GetStringAsync("/second"));

        // The upstream saw the same id on both tries of /first, a new one on /second.
        var first = tries.Where(t => t.Path == "/first").Select(t => t.Id).ToList();
        var second = tries.Where(t => t.Path == "/second").Select(t => t.Id).ToList();
        Assert.Equal(2, first.Count);
        Assert.Equal(36, first[0].Length);
        Assert.Equal(first[0], first[1]);
        Assert.NotEqual(first[0], Assert.Single(second));

        // The entry records the id the upstream saw, and both attempts.
        var logged = await AccessLogAsync(2);
        Assert.Equal(("/first", first[0], 2), logged[0]);
    }

    [Fact]
    public async Task Http2ClientHttp1Upstream_GeneratedIdSentOnce()
    {
        await using var upstream = ScriptedHttp1Upstream.Start(exchange => exchange.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, "http1"));
        using var client = Http2ProxyTests.Client(proxy, "h2");

        Assert.Equal("ok", await client.GetStringAsync("/a"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/b") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Add("x-request-id", "client-chosen");
        Assert.Equal("ok", await (await client.SendAsync(request)).Content.ReadAsStringAsync());

        var heads = upstream.Received.ToArray();
        Assert.Equal(2, heads.Length);
        Assert.All(heads, e => Assert.Single(e.Head.Split("\r\n"), l => l.StartsWith("x-request-id:", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(36, heads[0].Header("x-request-id")!.Length);
        Assert.Equal("client-chosen", heads[1].Header("x-request-id"));
    }

    /// <summary>(path, request_id, attempts) of the first <paramref name="count"/> access-log lines, once written.</summary>
    private async Task<List<(string Path, string RequestId, int Attempts)>> AccessLogAsync(int count) =>
        (await _log.ReadAsync(count, exactly: false))
            .Select(entry => (entry.GetProperty("path").GetString()!, entry.GetProperty("request_id").GetString()!, entry.GetProperty("attempts").GetInt32()))
            .ToList();

    public void Dispose() => _log.Dispose();
}
