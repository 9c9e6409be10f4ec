using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>Steady HTTP/2 (h2c, prior knowledge) load through the http listener; skipped until the proxy speaks h2.</summary>
public sealed class SteadyHttp2Scenario : IScenario
{
    /// <inheritdoc />
    public string Name => "steady-http2";

    /// <inheritdoc />
    public string Description => "constant-rate h2c GETs (prior knowledge) multiplexed through the http listener";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        using var fixture = await ProxyFixture.StartAsync(context, Name, new ProxyConfigOptions()).ConfigureAwait(false);
        var (works, detail) = await FeatureProbes.Http2PriorKnowledgeAsync(fixture.HttpPort).ConfigureAwait(false);
        if (!works)
        {
            return result.Skip("the proxy does not speak HTTP/2 yet: " + detail);
        }

        double rps = context.Pick(1000, 2000);
        var duration = TimeSpan.FromSeconds(context.Pick(6, 30));
        using var factory = new Http2ConnectionFactory(fixture.HttpUrl);
        var load = await OpenModelRunner.RunAsync(factory, new ConstantRateSchedule(rps, duration), 64,
            $"constant {rps}/s for {duration.TotalSeconds}s, up to 64 streams in flight", cancellationToken: context.Cancellation).ConfigureAwait(false);
        result.Load = load;
        result.AddLoadThresholds(load, p99BoundMs: 50, maxErrorRate: 0.001);
        return result;
    }
}
