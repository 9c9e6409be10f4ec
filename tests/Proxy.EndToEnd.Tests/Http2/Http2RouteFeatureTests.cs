using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Http;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// The route features of ResilienceTests (rate limits, faults, the circuit breaker, mirroring) and X-Forwarded-Host,
/// for HTTP/2 clients (h2c prior knowledge, HttpClient) in front of HTTP/1.1 and HTTP/2 Kestrel upstreams.
/// </summary>
public class Http2RouteFeatureTests
{
    public static TheoryData<string> UpstreamProtocols => Http2ProxyTests.UpstreamProtocols;

    private static Task<KestrelUpstream> StartUpstreamAsync(string name, string protocol) =>
        KestrelUpstream.StartAsync(name, protocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);

    /// <summary>An h2 request (a message's Version is its own: the client's default applies only to GetAsync and the like).</summary>
    private static HttpRequestMessage H2Get(string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    /// <summary>Sends <paramref name="requests"/> GETs one after another; each is answered over HTTP/2, 200 or 429 <c>rate-limited</c>. Returns the 429s.</summary>
    private static async Task<int> CountRateLimitedAsync(HttpClient client, int requests)
    {
        var limited = 0;
        for (var i = 0; i < requests; i++)
        {
            using var response = await client.GetAsync("/hello");
            Assert.Equal(HttpVersion.Version20, response.Version);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("rate-limited", response.Headers.GetValues("x-proxy-error").Single());
                limited++;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        return limited;
    }

    private static string Requests(string status, string flag) =>
        $"istio_requests_total{{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"{status}\",response_flags=\"{flag}\"}}";

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task RouteRateLimit_BucketEmpty_429(string upstreamProtocol)
    {
        await using var b = await StartUpstreamAsync("b", upstreamProtocol);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(b.Address, upstreamProtocol,
            routeExtra: "        rate_limit: { requests_per_second: 1, burst: 5 }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        var limited = await CountRateLimitedAsync(client, 20);
        Assert.InRange(limited, 10, 15);
        Assert.Equal(20 - limited, b.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(limited, metrics.Value("proxy_rate_limited_total{listener=\"web\",route=\"route-0\"}"));
        Assert.Equal(limited, metrics.Value(Requests("429", "RL")));
    }

    [Fact]
    public async Task ListenerRateLimit_AutoListener_BucketEmpty_429()
    {
        await using var b = await StartUpstreamAsync("b", "http1");
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(b.Address, listenerProtocol: "auto",
            listenerExtra: "    rate_limit: { requests_per_second: 1, burst: 3 }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        var limited = await CountRateLimitedAsync(client, 10);
        Assert.InRange(limited, 4, 7);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(limited, metrics.Value("proxy_rate_limited_total{listener=\"web\",route=\"-\"}"));
        Assert.Equal(limited, metrics.Value(Requests("429", "RL")));
    }

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task FaultAbort_HeadersMatch_AnsweredWithConfiguredOrRequestedStatus(string upstreamProtocol)
    {
        await using var b = await StartUpstreamAsync("b", upstreamProtocol);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(b.Address, upstreamProtocol, routeExtra: """
                    fault:
                      abort: { status: 503, percent: 100 }
                      headers: { x-fault: "yes" }
                      header_control: true
            """));
        using var client = Http2ProxyTests.H2Client(proxy);

        // Without the fault's header nothing is injected, not even what the request asks for.
        using (var plain = await client.SendAsync(H2Get("/hello", ("x-proxy-fault-abort", "418"))))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        }

        using (var aborted = await client.SendAsync(H2Get("/hello", ("x-fault", "yes"))))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, aborted.StatusCode);
            Assert.Equal("fault-injected", aborted.Headers.GetValues("x-proxy-error").Single());
        }

        using (var requested = await client.SendAsync(H2Get("/hello", ("x-fault", "yes"), ("x-proxy-fault-abort", "418"))))
        {
            Assert.Equal((HttpStatusCode)418, requested.StatusCode);
            Assert.Equal("fault-injected", requested.Headers.GetValues("x-proxy-error").Single());
        }

        Assert.Equal(1, b.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(2, metrics.Value("proxy_faults_injected_total{listener=\"web\",route=\"route-0\",kind=\"abort\"}"));
        Assert.Equal(1, metrics.Value(Requests("503", "FI")));
        Assert.Equal(1, metrics.Value(Requests("418", "FI")));
    }

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task FaultDelay_DelaysItsOwnStream_OthersOnTheConnectionGoOn(string upstreamProtocol)
    {
        await using var b = await StartUpstreamAsync("b", upstreamProtocol);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(b.Address, upstreamProtocol, routeExtra: """
                    fault:
                      delay: { duration: 2s, percent: 100 }
                      headers: { x-fault: "delay" }
                      header_control: true
            """));
        using var client = Http2ProxyTests.H2Client(proxy); // one connection: every stream shares it

        var watch = Stopwatch.StartNew();
        var delayed = client.SendAsync(H2Get("/hello", ("x-fault", "delay")));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value("proxy_faults_injected_total{listener=\"web\",route=\"route-0\",kind=\"delay\"}") == 1));

        // A stream without the header, on the same connection, is answered while the delayed one waits.
        Assert.Equal("hello from b", await client.GetStringAsync("/hello"));
        Assert.False(delayed.IsCompleted);
        using (var response = await delayed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("hello from b", await response.Content.ReadAsStringAsync());
        }

        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.9), $"answered after {watch.Elapsed}");

        // The request's own delay replaces the configured one.
        watch.Restart();
        using (var requested = await client.SendAsync(H2Get("/hello", ("x-fault", "delay"), ("x-proxy-fault-delay", "3000"))))
        {
            Assert.Equal(HttpStatusCode.OK, requested.StatusCode);
        }

        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(2.9), $"answered after {watch.Elapsed}");
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(2, metrics.Value("proxy_faults_injected_total{listener=\"web\",route=\"route-0\",kind=\"delay\"}"));
        Assert.Equal(3, b.Requests);
    }

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task CircuitBreaker_StreamsOverMaxRequests_Overflow503ThenReleased(string upstreamProtocol)
    {
        await using var b = await StartUpstreamAsync("b", upstreamProtocol);
        b.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(b.Address, upstreamProtocol,
            clusterExtra: "    circuit_breaker: { max_requests: 2 }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        // Two streams occupy the breaker (the upstream holds them); the ones after them overflow.
        var held = new[] { client.GetAsync("/held"), client.GetAsync("/held") };
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(b.HeldRequests == 2)));
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync("/hello");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("upstream-overflow", response.Headers.GetValues("x-proxy-error").Single());
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(3, metrics.Value("proxy_circuit_breaker_overflows_total{cluster=\"backend\",resource=\"requests\"}"));
        Assert.Equal(3, metrics.Value(Requests("503", "UO")));

        b.Hold.SetResult();
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal("released b", await response.Content.ReadAsStringAsync());
            response.Dispose();
        }

        // Both units come back (once the proxy has released the streams, which may be just after their responses
        // reached the client): two streams at once pass again.
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            var again = await Task.WhenAll(client.GetAsync("/hello"), client.GetAsync("/hello"));
            var passed = again.All(r => r.StatusCode == HttpStatusCode.OK);
            foreach (var response in again)
            {
                response.Dispose();
            }

            return passed;
        }));
    }

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task CircuitBreaker_ClientResetsHeldStream_UnitReleased(string upstreamProtocol)
    {
        await using var b = await StartUpstreamAsync("b", upstreamProtocol);
        b.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(b.Address, upstreamProtocol,
            clusterExtra: "    circuit_breaker: { max_requests: 1 }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        using var cancel = new CancellationTokenSource();
        var held = client.GetAsync("/held", cancel.Token);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(b.HeldRequests == 1)));
        using (var full = await client.GetAsync("/hello"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        }

        // The client resets the held stream (RST_STREAM CANCEL): the proxy's exchange ends, and with it the unit.
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            using var response = await client.GetAsync("/hello");
            return response.StatusCode == HttpStatusCode.OK;
        }));
        b.Hold.SetResult();
    }

    [Theory]
    [MemberData(nameof(UpstreamProtocols))]
    public async Task Mirror_BodilessStreamsCopied_WithoutDelayingResponses(string upstreamProtocol)
    {
        await using var primary = await StartUpstreamAsync("primary", upstreamProtocol);
        await using var shadow = await KestrelUpstream.StartAsync("shadow");
        shadow.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // the shadow never answers until released
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Mirrored(primary.Address, shadow.Address, upstreamProtocol));
        using var client = Http2ProxyTests.H2Client(proxy);

        // The primary answers /held at once (no hold); the shadow's copies hang, and nobody waits for them.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("released primary", await client.GetStringAsync("/held"));
        }

        // A request with a body is not copied.
        using var echo = await client.PostAsync("/echo", new ByteArrayContent([1, 2, 3]));
        Assert.Equal(new byte[] { 1, 2, 3 }, await echo.Content.ReadAsByteArrayAsync());

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(shadow.HeldRequests == 5)));
        shadow.Hold.SetResult();
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(5, metrics.Value("proxy_mirrored_requests_total{listener=\"web\",route=\"route-0\"}"));
        Assert.Equal(5, shadow.Requests);
    }

    /// <summary>HTTP/2 clients to either upstream; an HTTP/1.1 client to an HTTP/2 upstream (a translation of its own).</summary>
    public static TheoryData<string, string, bool> ForwardedHostCases => new()
    {
        { "h2", "http1", false },
        { "h2", "http1", true },
        { "h2", "http2", false },
        { "h2", "http2", true },
        { "h1", "http2", false },
        { "h1", "http2", true },
    };

    [Theory]
    [MemberData(nameof(ForwardedHostCases))]
    public async Task XForwardedHost_FromAuthority_ReplacesTheClients(string downstream, string upstreamProtocol, bool clientSendsOne)
    {
        await using var b = await StartUpstreamAsync("b", upstreamProtocol);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(b.Address, upstreamProtocol));
        using var client = Http2ProxyTests.Client(proxy, downstream);
        using var request = downstream == "h2" ? H2Get("/headers") : new HttpRequestMessage(HttpMethod.Get, "/headers");
        request.Headers.Host = "example.test"; // HttpClient sends it as :authority over HTTP/2
        if (clientSendsOne)
        {
            request.Headers.Add("x-forwarded-host", "spoofed.test");
        }

        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {string.Join(",", response.Headers.Select(h => h.Key + "=" + string.Join(";", h.Value)))} {proxy.Log}");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');
        Assert.Equal("x-forwarded-host: example.test", Assert.Single(lines, l => l.StartsWith("x-forwarded-host:", StringComparison.Ordinal)));
        Assert.Contains("x-forwarded-proto: http", lines);
    }
}
