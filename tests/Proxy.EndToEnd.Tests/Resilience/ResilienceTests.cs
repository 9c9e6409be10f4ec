using System.Net;
using Proxy.EndToEnd.Tests.Http;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Resilience;

/// <summary>Retries, budgets, breakers, ejection, health checks, mirroring, faults and rate limits, end to end.</summary>
public class ResilienceTests
{
    private static HttpClient Client(RunningProxy proxy) => new() { BaseAddress = new Uri($"http://{proxy.Listener("web")}"), Timeout = TimeSpan.FromSeconds(30) };

    private static string Route(string extra) => $"""
                retries: {extra}
        """;

    [Fact]
    public async Task Retries_UpstreamBrieflyDown_ApplicationSeesSuccess()
    {
        await using var b = await KestrelUpstream.StartAsync("b");
        b.FlakyFailures = 2;
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(b.Address,
            routeExtra: "        retries: { attempts: 3, retry_on: [5xx], backoff_base: 5ms }"));
        using var client = Client(proxy);

        using var response = await client.GetAsync("/flaky");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok from b", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, b.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(2, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"5xx\"}"));
    }

    [Fact]
    public async Task Retries_ConnectFailure_GoesToAnotherEndpoint()
    {
        await using var live = await KestrelUpstream.StartAsync("live");
        var dead = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"127.0.0.1:{dead}, {live.Address}",
            routeExtra: "        retries: { attempts: 2, retry_on: [connect-failure], backoff_base: 1ms }"));
        using var client = Client(proxy);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("hello from live", await client.GetStringAsync("/hello"));
        }
    }

    [Fact]
    public async Task Retries_AvoidTheEndpointThatJustFailed()
    {
        // Random picking over a dead and a live endpoint: without avoiding the previous host, a
        // quarter of the requests would pick the dead one twice and fail.
        await using var live = await KestrelUpstream.StartAsync("live");
        var dead = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"127.0.0.1:{dead}, {live.Address}", "random",
            routeExtra: "        retries: { attempts: 1, retry_on: [connect-failure], backoff_base: 1ms, backoff_max: 1ms }"));
        using var client = Client(proxy);

        for (var i = 0; i < 100; i++)
        {
            using var response = await client.GetAsync("/hello");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i}: {response.StatusCode}\n" + string.Join("\n", (await proxy.Admin.GetAsync("/metrics")).Body.Split('\n').Where(l => l.Contains("retr") && !l.StartsWith('#'))));
        }
    }

    [Fact]
    public async Task RetryBudget_UpstreamDownForLong_CapsExtraLoad()
    {
        await using var b = await KestrelUpstream.StartAsync("b");
        b.FlakyFailures = int.MaxValue;
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(b.Address,
            routeExtra: "        retries: { attempts: 3, retry_on: [5xx], backoff_base: 1ms, backoff_max: 2ms, budget: { ratio: 0.2, min_per_second: 1 } }"));
        using var client = Client(proxy);

        const int requests = 200;
        for (var i = 0; i < requests; i++)
        {
            using var response = await client.GetAsync("/flaky");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        // Without a budget 3 retries each would mean 800 upstream requests. The budget allows
        // 20% of requests plus 1 per second over a 10 s window.
        var retries = b.Requests - requests;
        Assert.InRange(retries, 1, (int)(0.2 * requests) + 10 + 2);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.True(metrics.Value("proxy_retries_refused_total{cluster=\"backend\",reason=\"budget\"}") > 0);
    }

    [Fact]
    public async Task CircuitBreaker_BurstOverMaxRequests_Overflows503()
    {
        await using var b = await KestrelUpstream.StartAsync("b");
        b.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(b.Address,
            clusterExtra: "    circuit_breaker: { max_requests: 2 }"));

        // Two requests occupy the breaker (the upstream holds them); the burst after them overflows.
        var clients = Enumerable.Range(0, 2).Select(_ => Client(proxy)).ToArray();
        var held = clients.Select(c => c.GetAsync("/held")).ToArray();
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(b.HeldRequests == 2)));

        using var client = Client(proxy);
        var overflowed = 0;
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/hello");
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal("upstream-overflow", response.Headers.GetValues("x-proxy-error").Single());
                overflowed++;
            }
        }

        Assert.Equal(5, overflowed);
        b.Hold.SetResult();
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(5, metrics.Value("proxy_circuit_breaker_overflows_total{cluster=\"backend\",resource=\"requests\"}"));
        foreach (var c in clients)
        {
            c.Dispose();
        }
    }

    [Fact]
    public async Task OutlierDetection_FailingEndpointEjectedThenReturns()
    {
        await using var good = await KestrelUpstream.StartAsync("good");
        await using var bad = await KestrelUpstream.StartAsync("bad");
        bad.FailAll = true;
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"{good.Address}, {bad.Address}",
            clusterExtra: "    outlier_detection: { consecutive_5xx: 3, base_ejection_time: 2s, max_ejection_percent: 50, interval: 1s }"));
        using var client = Client(proxy);

        // Round robin sends every other request to bad until it has failed 3 times in a row.
        for (var i = 0; i < 6; i++)
        {
            using var _ = await client.GetAsync("/hello");
        }

        var badBefore = bad.Requests;
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("/hello");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(badBefore, bad.Requests); // ejected: no traffic
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_outlier_ejections_total{cluster=\"backend\",reason=\"consecutive_5xx\"}"));

        // Healed, and back after the ejection time.
        bad.FailAll = false;
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            using var response = await client.GetAsync("/hello");
            return response.Headers.GetValues("x-upstream").Single() == "bad";
        }, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task HealthCheck_FailingEndpointLeavesRotation()
    {
        await using var good = await KestrelUpstream.StartAsync("good");
        await using var sick = await KestrelUpstream.StartAsync("sick");
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"{good.Address}, {sick.Address}",
            clusterExtra: "    health_check: { type: http, path: /health, interval: 200ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 2 }"));
        using var client = Client(proxy);

        sick.Healthy = false;
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.GetAsync("/clusters")).Body.Contains($"{sick.Address}::healthy=false")));

        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync("/hello");
            Assert.Equal("good", response.Headers.GetValues("x-upstream").Single());
        }

        sick.Healthy = true;
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.GetAsync("/clusters")).Body.Contains($"{sick.Address}::healthy=true")));
        var metrics = await proxy.Admin.MetricsAsync();
        // The sick endpoint's failed probes: a 503 is a failure, one that outlasts the probe timeout on a loaded machine a timeout.
        var failed = metrics.Value("proxy_health_checks_total{cluster=\"backend\",result=\"failure\"}")
            + metrics.Value("proxy_health_checks_total{cluster=\"backend\",result=\"timeout\"}");
        Assert.True(failed >= 2, string.Join(", ", metrics.Where(kv => kv.Key.StartsWith("proxy_health")).Select(kv => kv.Key + "=" + kv.Value)));
    }

    [Fact]
    public async Task Mirror_CopiesSentWithoutDelayingResponses()
    {
        await using var primary = await KestrelUpstream.StartAsync("primary");
        await using var shadow = await KestrelUpstream.StartAsync("shadow");
        shadow.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // the shadow never answers until released
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Mirrored(primary.Address, shadow.Address));
        using var client = Client(proxy);

        // The primary answers /held at once (no hold); the shadow's copies hang, and nobody waits for them.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("released primary", await client.GetStringAsync("/held"));
        }

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(shadow.HeldRequests == 5)));
        shadow.Hold.SetResult();
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(5, metrics.Value("proxy_mirrored_requests_total{listener=\"web\",route=\"route-0\"}"));
    }

    [Fact]
    public async Task FaultInjection_AbortAtConfiguredRateAndByHeader()
    {
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(b.Address,
            routeExtra: "        fault: { abort: { status: 503, percent: 25 }, header_control: true }"));
        using var client = Client(proxy);

        var aborted = 0;
        const int requests = 400;
        for (var i = 0; i < requests; i++)
        {
            using var response = await client.GetAsync("/hello");
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal("fault-injected", response.Headers.GetValues("x-proxy-error").Single());
                aborted++;
            }
        }

        // 25% of 400 = 100; binomial standard deviation about 8.7, so ±40 is beyond 4 sigma.
        Assert.InRange(aborted, 60, 140);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/hello");
        request.Headers.Add("x-proxy-fault-abort", "418");
        using var forced = await client.SendAsync(request);
        Assert.Equal((HttpStatusCode)418, forced.StatusCode);
    }

    [Fact]
    public async Task RateLimit_BucketEmpty_429()
    {
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(b.Address,
            routeExtra: "        rate_limit: { requests_per_second: 1, burst: 5 }"));
        using var client = Client(proxy);

        var limited = 0;
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("/hello");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("rate-limited", response.Headers.GetValues("x-proxy-error").Single());
                limited++;
            }
        }

        Assert.InRange(limited, 10, 15);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(limited, metrics.Value("proxy_rate_limited_total{listener=\"web\",route=\"route-0\"}"));
        Assert.Equal(limited, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"429\",response_flags=\"RL\"}"));
    }
}
