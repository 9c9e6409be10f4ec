using System.Net;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// Route timeouts and per-try timeouts on HTTP/2 clusters, from h2 and HTTP/1.1 clients: the upstream stream that
/// timed out is reset with CANCEL, then the client gets a 504 or the request is tried again elsewhere.
/// </summary>
public class Http2TimeoutTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task RouteTimeout_UpstreamNeverAnswers_504AndUpstreamStreamCancelled(string downstream)
    {
        var silent = new TaskCompletionSource<RawHttp2Upstream.Exchange>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = RawHttp2Upstream.Start(exchange =>
        {
            if (exchange.Path == "/silent")
            {
                silent.TrySetResult(exchange);
                return Task.CompletedTask;
            }

            return exchange.RespondAsync(200, "ok");
        });
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2", routeExtra: "        timeout: 300ms"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var response = await client.GetAsync("/silent");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream-timeout", response.Headers.GetValues("x-proxy-error").Single());
        var exchange = await silent.Task.WaitAsync(Wait);
        Assert.Equal(Http2ErrorCode.Cancel, await exchange.Reset.WaitAsync(Wait));

        // The upstream's late answer on the cancelled stream is dropped, and the upstream connection serves the next
        // request (an HTTP/1.1 client's comes on a new connection: a 504 closes its connection).
        await exchange.RespondAsync(200, "late");
        Assert.Equal("ok", await client.GetStringAsync("/next"));
        Assert.Equal(1, upstream.Connections);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"504\",response_flags=\"UT\"}"));
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task PerTryTimeout_FirstTryUnanswered_RetriedOnTheOtherEndpoint(string downstream)
    {
        // Whichever endpoint the first try picks leaves it unanswered; the retry avoids that endpoint.
        var tries = 0;
        var silent = new TaskCompletionSource<(string Name, RawHttp2Upstream.Exchange Exchange)>(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<RawHttp2Upstream.Exchange, Task> Handler(string name) => exchange =>
        {
            if (Interlocked.Increment(ref tries) == 1)
            {
                silent.TrySetResult((name, exchange));
                return Task.CompletedTask;
            }

            return exchange.RespondAsync(200, $"ok from {name}");
        };
        await using var a = RawHttp2Upstream.Start(Handler("a"));
        await using var b = RawHttp2Upstream.Start(Handler("b"));
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"{a.Address}, {b.Address}", "http2",
            routeExtra: "        timeout: 10s\n        retries: { attempts: 1, retry_on: [5xx], per_try_timeout: 300ms, backoff_base: 1ms }"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var response = await client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (name, first) = await silent.Task.WaitAsync(Wait);
        Assert.Equal(Http2ErrorCode.Cancel, await first.Reset.WaitAsync(Wait));
        Assert.Equal(name == "a" ? "ok from b" : "ok from a", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, a.Requests);
        Assert.Equal(1, b.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"5xx\"}"));

        // An HTTP/1.1 client's relayed response is counted once its body has been written to the client, so the
        // client may have it first: the count is waited for.
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => (await proxy.Admin.MetricsAsync()).Value(
            "istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}") == 1));
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task PerTryTimeout_EveryTryUnanswered_EachCancelledThen504(string downstream)
    {
        var unanswered = new List<RawHttp2Upstream.Exchange>();
        Task Record(RawHttp2Upstream.Exchange exchange)
        {
            lock (unanswered)
            {
                unanswered.Add(exchange);
            }

            return Task.CompletedTask;
        }

        await using var a = RawHttp2Upstream.Start(Record);
        await using var b = RawHttp2Upstream.Start(Record);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"{a.Address}, {b.Address}", "http2",
            routeExtra: "        retries: { attempts: 1, retry_on: [5xx], per_try_timeout: 200ms, backoff_base: 1ms }"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var response = await client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream-timeout", response.Headers.GetValues("x-proxy-error").Single());
        Assert.Equal(1, a.Requests);
        Assert.Equal(1, b.Requests);
        foreach (var exchange in unanswered)
        {
            Assert.Equal(Http2ErrorCode.Cancel, await exchange.Reset.WaitAsync(Wait));
        }
    }

    /// <summary>
    /// The route timeout is a deadline for all the tries: with 1 s of it and 400 ms per try, an upstream that never
    /// answers gets at most three tries, each reset with CANCEL, and the client its 504 after about 1 s, not the
    /// 2.4 s the six tries of five retries take.
    /// </summary>
    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task RouteTimeout_PerTryTimeoutsRetried_DeadlineBoundsAllTries(string downstream)
    {
        await using var upstream = RawHttp2Upstream.Start(_ => Task.CompletedTask);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            routeExtra: "        timeout: 1s\n        retries: { attempts: 5, retry_on: [5xx], per_try_timeout: 400ms, backoff_base: 1ms, backoff_max: 1ms }"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await client.GetAsync("/x");
        var elapsed = clock.Elapsed;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream-timeout", response.Headers.GetValues("x-proxy-error").Single());
        Assert.InRange(upstream.Requests, 1, 3); // 1: a cold first try (connect, JIT) that took 600 ms
        Assert.True(elapsed < TimeSpan.FromSeconds(2.2), $"answered after {elapsed}: the tries outlasted the route timeout");
    }

    /// <summary>
    /// A gRPC client's grpc-timeout is a deadline for the whole call too: 1 s of it over 400 ms tries gives at most
    /// three tries and DEADLINE_EXCEEDED (grpc-status 4) after about 1 s.
    /// </summary>
    [Fact]
    public async Task GrpcTimeout_PerTryTimeoutsRetried_DeadlineExceededAfterTheCallsTime()
    {
        await using var upstream = RawHttp2Upstream.Start(_ => Task.CompletedTask);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            routeExtra: "        retries: { attempts: 5, retry_on: [5xx], per_try_timeout: 400ms, backoff_base: 1ms, backoff_max: 1ms }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        // A GET, so the per-try timeouts are retried (a POST that may have reached the upstream is not).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/test.Echo/Unary")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact, // h2c with prior knowledge
            Content = new ByteArrayContent([]),
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("grpc-timeout", "1S");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var elapsed = clock.Elapsed;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = response.Headers.TryGetValues("grpc-status", out var inHeaders) ? inHeaders.Single()
            : response.TrailingHeaders.GetValues("grpc-status").Single();
        Assert.Equal("4", status);
        Assert.InRange(upstream.Requests, 1, 3); // 1: a cold first try (connect, JIT) that took 600 ms
        Assert.True(elapsed < TimeSpan.FromSeconds(2.2), $"answered after {elapsed}: the tries outlasted grpc-timeout");
    }
}
