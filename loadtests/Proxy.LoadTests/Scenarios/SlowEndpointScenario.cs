using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>
/// One of three endpoints answers slowly; the peak_ewma picker should move traffic away from it.
/// Measures the share of requests that still reach the slow endpoint.
/// </summary>
public sealed class SlowEndpointScenario : IScenario
{
    /// <inheritdoc />
    public string Name => "slow-endpoint-peak-ewma";

    /// <inheritdoc />
    public string Description => "one of three upstreams adds 25 ms per response; peak_ewma should send it well under a third of the traffic";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var options = new ProxyConfigOptions { LoadBalancer = "peak_ewma" };
        string probeYaml = ProxyConfigBuilder.Build(FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), ["127.0.0.1:9"], options);
        var (valid, output) = await FeatureProbes.ValidatorAcceptsAsync(context.ProxyBinary, context.Directory(Name), probeYaml).ConfigureAwait(false);
        if (!valid)
        {
            return result.Skip("the validator rejects load_balancer: peak_ewma: " + output);
        }

        using var fixture = await ProxyFixture.StartAsync(context, Name, options).ConfigureAwait(false);
        var (http, detail) = await FeatureProbes.HttpForwardingAsync(fixture).ConfigureAwait(false);
        if (!http)
        {
            // Over L4 a picker only chooses per connection, so a share per request would mean nothing.
            return result.Skip("peak_ewma is accepted, but it needs per-request balancing over http forwarding: " + detail);
        }

        var slow = fixture.Upstreams[2];
        slow.Delay = TimeSpan.FromMilliseconds(25);
        long before = fixture.UpstreamRequests(), slowBefore = slow.Requests;
        double rps = context.Pick(300, 600);
        var duration = TimeSpan.FromSeconds(context.Pick(8, 30));
        var load = await OpenModelRunner.RunAsync(new Client.Http1ConnectionFactory(fixture.HttpUrl), new ConstantRateSchedule(rps, duration), 32,
            $"constant {rps}/s for {duration.TotalSeconds}s on 32 connections", cancellationToken: context.Cancellation).ConfigureAwait(false);
        result.Load = load;

        long total = fixture.UpstreamRequests() - before;
        double share = total == 0 ? 0 : (double)(slow.Requests - slowBefore) / total;
        result.Measure("share reaching the slow endpoint", $"{share * 100:0.#} % of {total} (round robin would give 33.3 %)");
        result.Thresholds.Add(Threshold.AtMost("slow endpoint share", share * 100, 15, " %", "0.#"));
        result.Thresholds.Add(Threshold.AtMost("error rate", load.ErrorRate * 100, 0.1, " %"));
        result.Thresholds.Add(Threshold.AtMost("lost", load.Lost, 0, ""));
        return result;
    }
}
