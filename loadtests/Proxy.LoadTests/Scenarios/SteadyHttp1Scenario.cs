using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>Steady HTTP/1.1 keep-alive load at a constant arrival rate through the proxy.</summary>
public sealed class SteadyHttp1Scenario : IScenario
{
    /// <inheritdoc />
    public string Name => "steady-http1";

    /// <inheritdoc />
    public string Description => "constant-rate HTTP/1.1 keep-alive GETs through the proxy to three upstreams";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        using var fixture = await ProxyFixture.StartAsync(context, Name, new ProxyConfigOptions()).ConfigureAwait(false);
        var (url, _) = await ListenerChoice.ChooseAsync(fixture, result).ConfigureAwait(false);

        long before = fixture.UpstreamRequests();
        double rps = context.Pick(1000, 2000);
        var duration = TimeSpan.FromSeconds(context.Pick(6, 30));
        int connections = context.Pick(16, 32);
        var load = await OpenModelRunner.RunAsync(new Http1ConnectionFactory(url), new ConstantRateSchedule(rps, duration), connections,
            $"constant {rps}/s for {duration.TotalSeconds}s on {connections} connections", cancellationToken: context.Cancellation).ConfigureAwait(false);
        result.Load = load;
        result.AddLoadThresholds(load, p99BoundMs: 50, maxErrorRate: 0.001);
        result.Measure("requests reaching the upstreams", (fixture.UpstreamRequests() - before).ToString());
        return result;
    }
}
