using System.Net;
using Proxy.EndToEnd.Tests.Http;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Resilience;

/// <summary>
/// Retries without a <c>budget</c> get Linkerd's default one (20 % of requests plus 10 per second
/// over 10 s), so a cluster that always fails sees a bounded extra load, not attempts-fold.
/// </summary>
public class DefaultRetryBudgetTests
{
    private const int Requests = 200;

    private static async Task<int> RetriesAgainstFailingUpstream(string retries)
    {
        await using var b = await KestrelUpstream.StartAsync("b");
        b.FlakyFailures = int.MaxValue; // always 503
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(b.Address, routeExtra: "        retries: " + retries));
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Listener("web")}"), Timeout = TimeSpan.FromSeconds(30) };
        for (var i = 0; i < Requests; i++)
        {
            using var response = await client.GetAsync("/flaky");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        return b.Requests - Requests;
    }

    [Fact]
    public async Task RetryBudget_NotConfigured_LinkerdDefaultCapsRetries()
    {
        var retries = await RetriesAgainstFailingUpstream("{ attempts: 3, retry_on: [5xx], backoff_base: 1ms, backoff_max: 1ms }");

        // Unbudgeted, 3 retries each would be 600. The default allows 20 % of the requests plus
        // a reserve of 10 per second over its 10 s window.
        Assert.InRange(retries, 1, (int)(0.2 * Requests) + 100 + 2);
    }

    [Fact]
    public async Task RetryBudget_None_OnlyAttemptsBoundRetries()
    {
        var retries = await RetriesAgainstFailingUpstream("{ attempts: 3, retry_on: [5xx], backoff_base: 1ms, backoff_max: 1ms, budget: none }");

        Assert.Equal(3 * Requests, retries);
    }
}
