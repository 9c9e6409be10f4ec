using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>HTTP/2 (h2c prior knowledge) through the proxy with real clients, to HTTP/1.1 and HTTP/2 Kestrel upstreams.</summary>
public class Http2ProxyTests
{
    public static TheoryData<string> UpstreamProtocols => new() { "http1", "http2" };

    internal static HttpClient H2Client(RunningProxy proxy) => new(new SocketsHttpHandler { EnableMultipleHttp2Connections = false })
    {
        BaseAddress = new Uri($"http://{proxy.Listener("web")}"),
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>The client sides of a test on an HTTP/2 cluster: HTTP/1.1 ("h1") and h2c ("h2"), see <see cref="Client"/>.</summary>
    public static TheoryData<string> Downstreams => new() { "h1", "h2" };

    /// <summary>A client of the listener "web": h2c prior knowledge for "h2" (<see cref="H2Client"/>), else HTTP/1.1.</summary>
    internal static HttpClient Client(RunningProxy proxy, string downstream) => downstream == "h2"
        ? H2Client(proxy)
        : new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}"), Timeout = TimeSpan.FromSeconds(60) };

    internal static async Task<(KestrelUpstream Upstream, RunningProxy Proxy)> StartAsync(string upstreamProtocol, string listenerProtocol = "http")
    {
        var upstream = await KestrelUpstream.StartAsync("a", upstreamProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, upstreamProtocol, listenerProtocol));
        return (upstream, proxy);
    }

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task HttpClient_GetPostChunked_ThroughProxy(string upstreamProtocol)
    {
        var (upstream, proxy) = await StartAsync(upstreamProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = H2Client(proxy);

        using var hello = await client.GetAsync("/hello");
        Assert.Equal(HttpVersion.Version20, hello.Version);
        Assert.Equal("hello from a", await hello.Content.ReadAsStringAsync());
        Assert.Equal("a", hello.Headers.GetValues("x-upstream").Single());

        // Echo stays under the buffering of client + proxy + upstream: HttpClient reads no response before its
        // (non-duplex) request body is sent, so a larger echo stalls with any HTTP/2 peer, not just the proxy.
        var small = RandomNumberGenerator.GetBytes(200_000);
        using var echo = await client.PostAsync("/echo", new ByteArrayContent(small));
        Assert.Equal(small, await echo.Content.ReadAsByteArrayAsync());

        var body = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 17);
        using var hashed = await client.PostAsync("/sha256", new ByteArrayContent(body));
        Assert.Equal($"{body.Length} {Convert.ToHexString(SHA256.HashData(body))}", await hashed.Content.ReadAsStringAsync());

        Assert.Equal(KestrelUpstream.Pattern(1_000_000), await client.GetByteArrayAsync("/chunked/1000000"));
        Assert.Equal(KestrelUpstream.Pattern(500_000), await client.GetByteArrayAsync("/bytes/500000"));

        using var notFound = await client.GetAsync("/status/404");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_listener_connections_opened_total{listener=\"web\"}"));
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"404\",response_flags=\"-\"}"));
    }

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task HttpClient_ManyConcurrentStreams_AllAnsweredFewUpstreamConnections(string upstreamProtocol)
    {
        var (upstream, proxy) = await StartAsync(upstreamProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = H2Client(proxy);

        var tasks = new Task<string>[100];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = GetAsync(client, "/slow/200");
        }

        foreach (var text in await Task.WhenAll(tasks))
        {
            Assert.Equal("slow", text);
        }

        var metrics = await proxy.Admin.MetricsAsync();
        var connections = metrics.Value("proxy_upstream_connections_total{cluster=\"backend\"}");
        if (upstreamProtocol == "http2")
        {
            Assert.Equal(1, connections); // 100 concurrent streams multiplexed over one upstream connection
        }
        else
        {
            Assert.InRange(connections, 1, 100);
        }
    }

    [Fact]
    public async Task NoRoute_Http2Client_Gets404WithProxyError()
    {
        await using var proxy = await RunningProxy.StartAsync("""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: auto
                routes:
                  - match: { path_prefix: /only/ }
                    cluster: backend
            clusters:
              - name: backend
                endpoints: [ 127.0.0.1:1 ]
            """);
        using var client = H2Client(proxy);
        using var response = await client.GetAsync("/elsewhere");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no-route", response.Headers.GetValues("x-proxy-error").Single());

        using var refused = await client.GetAsync("/only/x");
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Equal("upstream-connect-failure", refused.Headers.GetValues("x-proxy-error").Single());
    }

    [Fact]
    public async Task Http1Client_OnSameListener_StillServed()
    {
        var (upstream, proxy) = await StartAsync("http2");
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}") };
        using var response = await client.GetAsync("/hello");
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("hello from a", await response.Content.ReadAsStringAsync());
    }

    [SkippableTheory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task Curl_Http2PriorKnowledge_Works(string upstreamProtocol)
    {
        Skip.IfNot(Tool.Exists("curl"), "curl is not installed");
        var (upstream, proxy) = await StartAsync(upstreamProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        var (code, output) = await Tool.RunAsync("curl", $"-sS --http2-prior-knowledge -w \"\\n%{{http_version}}\" http://{proxy.Listener("web")}/hello");
        Assert.Equal(0, code);
        Assert.Equal("hello from a\n2", output.Trim());
    }

    [SkippableTheory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task Nghttp_GetAndPost_Works(string upstreamProtocol)
    {
        Skip.IfNot(Tool.Exists("nghttp"), "nghttp is not installed");
        var (upstream, proxy) = await StartAsync(upstreamProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        var (code, output) = await Tool.RunAsync("nghttp", $"http://{proxy.Listener("web")}/hello");
        Assert.True(code == 0, output);
        Assert.Equal("hello from a", output.Trim());

        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, KestrelUpstream.Pattern(200_000));
        try
        {
            (code, output) = await Tool.RunAsync("nghttp", $"-d {file} http://{proxy.Listener("web")}/sha256");
            Assert.True(code == 0, output);
            Assert.Equal($"200000 {Convert.ToHexString(SHA256.HashData(KestrelUpstream.Pattern(200_000)))}", output.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task H2load_Smoke_NoErrors(string upstreamProtocol)
    {
        Skip.IfNot(Tool.Exists("h2load"), "h2load is not installed");
        var (upstream, proxy) = await StartAsync(upstreamProtocol);
        await using var _ = upstream;
        await using var __ = proxy;
        var (code, output) = await Tool.RunAsync("h2load", $"-n 2000 -c 4 -m 10 http://{proxy.Listener("web")}/hello");
        Assert.True(code == 0, output);
        Assert.Contains("2000 succeeded, 0 failed, 0 errored", output);
        Assert.Contains("status codes: 2000 2xx", output);

        if (upstreamProtocol == "http2")
        {
            // 40 concurrent streams at most: one upstream connection carries them all.
            var metrics = await proxy.Admin.MetricsAsync();
            Assert.Equal(1, metrics.Value("proxy_upstream_connections_total{cluster=\"backend\"}"));
        }
    }

    [Fact]
    public async Task Drain_OpenHttp2Connection_GetsGoAwayAndStreamFinishes()
    {
        var (upstream, proxy) = await StartAsync("http1");
        await using var _ = upstream;
        await using var __ = proxy;
        using var client = H2Client(proxy);
        Assert.Equal("hello from a", await client.GetStringAsync("/hello"));
        var slow = client.GetStringAsync("/slow/1500");
        await Task.Delay(200);
        var stopwatch = Stopwatch.StartNew();
        var drain = proxy.Host.Runtime.DrainAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("slow", await slow);
        Assert.Equal(0, await drain); // nothing had to be closed by force
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), stopwatch.Elapsed.ToString());
    }

    /// <summary>The body of a 200, or a failure that names the proxy's error flag.</summary>
    private static async Task<string> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode,
            $"{(int)response.StatusCode} x-proxy-error={string.Join(",", response.Headers.TryGetValues("x-proxy-error", out var flags) ? flags : [])} body={body}");
        return body;
    }
}
