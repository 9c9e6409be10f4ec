using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>A traffic spike: the base rate, five times the base rate for a few seconds, then the base rate again.</summary>
public sealed class SpikeScenario : IScenario
{
    /// <inheritdoc />
    public string Name => "spike";

    /// <inheritdoc />
    public string Description => "base rate, then x5 for a few seconds, then base rate (open model: queueing shows up as latency)";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        using var fixture = await ProxyFixture.StartAsync(context, Name, new ProxyConfigOptions()).ConfigureAwait(false);
        var (url, _) = await ListenerChoice.ChooseAsync(fixture, result).ConfigureAwait(false);

        double rps = context.Pick(400, 1000);
        var calm = TimeSpan.FromSeconds(context.Pick(2, 10));
        var spike = TimeSpan.FromSeconds(context.Pick(3, 5));
        int connections = 64;
        var schedule = new PhasedSchedule((rps, calm), (rps * 5, spike), (rps, calm));
        var load = await OpenModelRunner.RunAsync(new Http1ConnectionFactory(url), schedule, connections,
            $"{rps}/s {calm.TotalSeconds}s, {rps * 5}/s {spike.TotalSeconds}s, {rps}/s {calm.TotalSeconds}s on {connections} connections",
            cancellationToken: context.Cancellation).ConfigureAwait(false);
        result.Load = load;
        result.AddLoadThresholds(load, p99BoundMs: 200, maxErrorRate: 0.001);
        return result;
    }
}
