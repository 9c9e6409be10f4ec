using System.Net;
using System.Text;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>Retries on HTTP/2 clusters: refused streams always (RFC 9113 8.7), the route's policy otherwise.</summary>
public class Http2RetryTests
{
    /// <summary>An upstream whose first request fails with <paramref name="fail"/>; later ones get 200 and the body's length.</summary>
    private static RawHttp2Upstream FailFirst(Func<RawHttp2Upstream.Exchange, Task> fail)
    {
        var seen = 0;
        return RawHttp2Upstream.Start(async exchange =>
        {
            if (Interlocked.Increment(ref seen) == 1)
            {
                await fail(exchange);
                return;
            }

            var body = await exchange.Body;
            await exchange.RespondAsync(200, $"ok {body.Length} on {exchange.Connection.Index}");
        });
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task RefusedStream_NoRetryPolicy_RetriedAndCounted(string downstream)
    {
        await using var upstream = FailFirst(exchange => exchange.ResetAsync(Http2ErrorCode.RefusedStream));
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        // POST is not idempotent: only a refused stream, which reached no application, may be sent again.
        using var response = await client.PostAsync("/x", new StringContent(""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok 0 on 1", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_upstream_retries_total{cluster=\"backend\"}"));
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task GoAwayBelowStream_RetriedOnNewConnection(string downstream)
    {
        await using var upstream = FailFirst(exchange => exchange.Connection.GoAwayAsync(0, Http2ErrorCode.NoError));
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        Assert.Equal("ok 0 on 2", await client.GetStringAsync("/x"));
        Assert.Equal(2, upstream.Connections);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RetriedH2Request_EveryTryCarriesTheSameFieldsOnce(bool clientSentForwardedFor)
    {
        // The proxy's fields go on the end of the received list to be sent and come off again: a retry must not see
        // them twice. A client's own x-forwarded-for takes the copying path instead; both must send the same shape.
        var tries = new List<List<(string Name, string Value)>>();
        await using var upstream = RawHttp2Upstream.Start(async exchange =>
        {
            lock (tries)
            {
                tries.Add(exchange.Headers);
            }

            if (tries.Count == 1)
            {
                await exchange.ResetAsync(Http2ErrorCode.RefusedStream);
                return;
            }

            await exchange.RespondAsync(200, "ok");
        });
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = Http2ProxyTests.H2Client(proxy);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Add("user-agent", "retry-test");
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        if (clientSentForwardedFor)
        {
            request.Headers.Add("x-forwarded-for", "203.0.113.7");
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, tries.Count);
        Assert.Equal(tries[0], tries[1]);
        foreach (string name in new[] { "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "traceparent", "x-request-id", "user-agent" })
        {
            Assert.Single(tries[1], h => h.Name == name);
        }

        string forwarded = tries[1].Single(h => h.Name == "x-forwarded-for").Value;
        Assert.Equal(clientSentForwardedFor ? "203.0.113.7, 127.0.0.1" : "127.0.0.1", forwarded);
        Assert.Equal("http", tries[1].Single(h => h.Name == "x-forwarded-proto").Value);
        Assert.Equal("retry-test", tries[1].Single(h => h.Name == "user-agent").Value);
    }

    [Fact]
    public async Task RefusedStream_UpstreamRefusesEverything_BoundedThen502()
    {
        await using var upstream = RawHttp2Upstream.Start(exchange => exchange.ResetAsync(Http2ErrorCode.RefusedStream));
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = Http2ProxyTests.H2Client(proxy);

        using var response = await client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream-reset", response.Headers.GetValues("x-proxy-error").Single());
        Assert.Equal(3, upstream.Requests); // the first try and two retries
    }

    public static TheoryData<string, string> PolicyCases => new()
    {
        { "h1", "5xx" },
        { "h2", "5xx" },
        { "h1", "reset" },
        { "h2", "reset" },
        { "h1", "unavailable" },
        { "h2", "unavailable" },
    };

    [Theory]
    [MemberData(nameof(PolicyCases))]
    public async Task RetryPolicy_FailedFirstTry_SmallBodySentAgain(string downstream, string retryOn)
    {
        await using var upstream = FailFirst(retryOn switch
        {
            "5xx" => exchange => exchange.RespondAsync(503, "busy"),
            "reset" => exchange => exchange.ResetAsync(Http2ErrorCode.InternalError),
            _ => exchange => exchange.HeadersAsync(200, endStream: true, ("content-type", "application/grpc"), ("grpc-status", "14")),
        });
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            routeExtra: $"        retries: {{ attempts: 2, retry_on: [{retryOn}], backoff_base: 1ms }}"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        // PUT is idempotent; its 1000-byte body is received whole first, so the second try carries it too.
        using var response = await client.PutAsync("/x", new ByteArrayContent(new byte[1000]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok 1000 on 1", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        var reason = retryOn == "unavailable" ? "grpc" : retryOn;
        Assert.Equal(1, metrics.Value($"proxy_retries_total{{cluster=\"backend\",reason=\"{reason}\"}}"));
    }

    [Fact]
    public async Task RetryPolicy_Reset_NonIdempotentNotRetried()
    {
        await using var upstream = FailFirst(exchange => exchange.ResetAsync(Http2ErrorCode.InternalError));
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            routeExtra: "        retries: { attempts: 2, retry_on: [reset], backoff_base: 1ms }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        using var response = await client.PostAsync("/x", new StringContent("data", Encoding.ASCII));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_retries_refused_total{cluster=\"backend\",reason=\"not_idempotent\"}"));
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task RetryPolicy_Http2Cluster_KestrelFlaky503s_Retried(string downstream)
    {
        await using var upstream = await KestrelUpstream.StartAsync("a", Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
        upstream.FlakyFailures = 2;
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            routeExtra: "        retries: { attempts: 3, retry_on: [5xx], backoff_base: 1ms }"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        Assert.Equal("ok from a", await client.GetStringAsync("/flaky"));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(2, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"5xx\"}"));
    }
}
