using System.Net;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>
/// Route and per-try timeouts on HTTP/1.1 clusters, from HTTP/1.1 and h2 clients: they cover the wait for the response
/// head, and a timer callback that runs late cannot end a later request of the same keep-alive connection.
/// </summary>
public class Http1TimeoutTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static HttpClient OneConnectionClient(RunningProxy proxy) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
        {
            BaseAddress = new Uri($"http://{proxy.Listener("web")}"),
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>
    /// The first request's timer callback runs while the second request of the connection waits for its response
    /// head (<see cref="ScriptedTimers.RunCallbacksNow"/> makes that moment, which a busy machine makes by chance):
    /// the second request has its own deadline, far off, so it is answered by its upstream, not 504.
    /// </summary>
    [Fact]
    public async Task RouteTimeout_LateTimerCallbackOfEarlierRequest_NextRequestNotCut()
    {
        var heldSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedHttp1Upstream.Start(async exchange =>
        {
            if (exchange.Path == "/held")
            {
                heldSeen.TrySetResult();
                await release.Task;
            }

            await exchange.SendAsync("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        });
        var timers = new ScriptedTimers();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address, routeExtra: "        timeout: 30s"), time: timers);
        using var client = OneConnectionClient(proxy);

        Assert.Equal("ok", await client.GetStringAsync("/first"));
        Assert.True(timers.Count > 0, "the route timeout made no timer");

        var held = client.GetAsync("/held");
        await heldSeen.Task.WaitAsync(Wait);
        await Task.Delay(100); // the proxy is in its wait for the response head once the upstream has the request
        await timers.RunCallbacksNow(); // the first request's callback, on its way when that request ended
        await Task.Delay(100);
        Assert.False(held.IsCompleted, "the late callback ended the second request");

        release.TrySetResult();
        using var response = await held.WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, upstream.Connections);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"504\",response_flags=\"UT\"}"));
    }

    /// <summary>
    /// The route timeout ends a wait that outlasts it: 504, the upstream connection closed, and the client's connection
    /// (HTTP/1.1) or stream's connection (h2) serves the next request. The upstream sockets' pipes resume their reader
    /// inline, on the thread that cancels the read: the timeout is decided before that, or it would pass for a close.
    /// </summary>
    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task RouteTimeout_UpstreamNeverAnswers_504ThenConnectionServesNext(string downstream)
    {
        await using var upstream = ScriptedHttp1Upstream.Start(async exchange =>
        {
            if (exchange.Path == "/silent")
            {
                await exchange.ReadBodyAsync(1).ContinueWith(_ => { }); // until the proxy closes the connection
                exchange.Close();
                return;
            }

            await exchange.SendAsync("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        });
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address, routeExtra: "        timeout: 300ms"));
        using var client = downstream == "h2" ? Http2ProxyTests.H2Client(proxy) : OneConnectionClient(proxy);

        Assert.Equal("ok", await client.GetStringAsync("/before"));
        using var timedOut = await client.GetAsync("/silent");
        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);
        Assert.Equal("upstream-timeout", timedOut.Headers.GetValues("x-proxy-error").Single());
        Assert.Equal("ok", await client.GetStringAsync("/after"));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"504\",response_flags=\"UT\"}"));
    }

    /// <summary>A per-try timeout is retried on the other endpoint; the unanswered try's connection is closed.</summary>
    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task PerTryTimeout_FirstTryUnanswered_RetriedOnTheOtherEndpoint(string downstream)
    {
        var tries = 0;
        var silentClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<ScriptedHttp1Upstream.Exchange, Task> Handler(string name) => async exchange =>
        {
            if (Interlocked.Increment(ref tries) == 1)
            {
                // Unanswered: the proxy gives up on this try and closes the connection.
                await exchange.ReadBodyAsync(1).ContinueWith(_ => silentClosed.TrySetResult());
                exchange.Close();
                return;
            }

            await exchange.SendAsync($"HTTP/1.1 200 OK\r\ncontent-length: {name.Length}\r\n\r\n{name}");
        };
        await using var a = ScriptedHttp1Upstream.Start(Handler("a"));
        await using var b = ScriptedHttp1Upstream.Start(Handler("b"));
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"{a.Address}, {b.Address}",
            routeExtra: "        timeout: 10s\n        retries: { attempts: 1, retry_on: [5xx], per_try_timeout: 300ms, backoff_base: 1ms }"));
        using var client = downstream == "h2" ? Http2ProxyTests.H2Client(proxy) : OneConnectionClient(proxy);

        using var response = await client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, a.Requests);
        Assert.Equal(1, b.Requests);
        await silentClosed.Task.WaitAsync(Wait);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"5xx\"}"));
    }

    /// <summary>
    /// The route timeout is a deadline for all the tries (Envoy's route timeout over retry_policy.per_try_timeout):
    /// with 1 s of it and 400 ms per try, an upstream that never answers gets at most three tries (0, 0.4, 0.8 s, the
    /// last cut to the 0.2 s left), not the six the five retries allow, and the client its 504 after about 1 s, not
    /// the 2.4 s six whole tries take.
    /// </summary>
    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task RouteTimeout_PerTryTimeoutsRetried_DeadlineBoundsAllTries(string downstream)
    {
        await using var upstream = ScriptedHttp1Upstream.Start(async exchange =>
        {
            await exchange.ReadBodyAsync(1).ContinueWith(_ => { }); // unanswered, until the proxy closes the connection
            exchange.Close();
        });
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address,
            routeExtra: "        timeout: 1s\n        retries: { attempts: 5, retry_on: [5xx], per_try_timeout: 400ms, backoff_base: 1ms, backoff_max: 1ms }"));
        using var client = downstream == "h2" ? Http2ProxyTests.H2Client(proxy) : OneConnectionClient(proxy);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await client.GetAsync("/x");
        var elapsed = clock.Elapsed;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream-timeout", response.Headers.GetValues("x-proxy-error").Single());
        Assert.InRange(upstream.Requests, 1, 3); // 1: a cold first try (connect, JIT) that took 600 ms
        Assert.True(elapsed < TimeSpan.FromSeconds(2.2), $"answered after {elapsed}: the tries outlasted the route timeout");
    }

    /// <summary>
    /// A backoff is cut to the time left before the deadline, which then ends the request: 504 UT after the route's
    /// 2 s, not the upstream's 503 after backoffs of up to 30 s each, and no try after the deadline. (A 503 that
    /// arrives after the deadline would be relayed as it is: 2 s leaves a cold first try plenty of room.)
    /// </summary>
    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task RouteTimeout_DeadlinePassesInBackoff_504WithoutAnotherTry(string downstream)
    {
        await using var upstream = ScriptedHttp1Upstream.Start(exchange =>
            exchange.SendAsync("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"));
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address,
            routeExtra: "        timeout: 2s\n        retries: { attempts: 3, retry_on: [5xx], backoff_base: 30s, backoff_max: 30s }"));
        using var client = downstream == "h2" ? Http2ProxyTests.H2Client(proxy) : OneConnectionClient(proxy);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await client.GetAsync("/x").WaitAsync(Wait);
        var elapsed = clock.Elapsed;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream-timeout", response.Headers.GetValues("x-proxy-error").Single());
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"answered after {elapsed}: the backoff outlasted the route timeout");
        Assert.InRange(upstream.Requests, 1, 4); // a backoff shorter than the time left (a jitter under 2 s) allows another try
    }
}
