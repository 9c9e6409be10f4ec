using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>Rewrites the proxy's config file (and sends SIGHUP) several times during steady load; no request may fail.</summary>
public sealed class ConfigReloadScenario : IScenario
{
    /// <inheritdoc />
    public string Name => "config-reload";

    /// <inheritdoc />
    public string Description => "steady load while the config file is rewritten (endpoint order rotated) and SIGHUP sent, several times";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        using var fixture = await ProxyFixture.StartAsync(context, Name, new ProxyConfigOptions()).ConfigureAwait(false);
        var (url, _) = await ListenerChoice.ChooseAsync(fixture, result).ConfigureAwait(false);

        double rps = context.Pick(500, 1000);
        var duration = TimeSpan.FromSeconds(context.Pick(8, 30));
        int reloads = context.Pick(5, 15);
        var reloader = Task.Run(async () =>
        {
            var gap = duration / (reloads + 1);
            for (int i = 1; i <= reloads && !context.Cancellation.IsCancellationRequested; i++)
            {
                await Task.Delay(gap, context.Cancellation).ConfigureAwait(false);
                fixture.Proxy.Reload(fixture.ConfigText(new ProxyConfigOptions { EndpointRotation = i }));
            }
        });

        var load = await OpenModelRunner.RunAsync(new Http1ConnectionFactory(url), new ConstantRateSchedule(rps, duration), 32,
            $"constant {rps}/s for {duration.TotalSeconds}s on 32 connections, {reloads} reloads", cancellationToken: context.Cancellation).ConfigureAwait(false);
        await reloader.ConfigureAwait(false);
        result.Load = load;
        bool alive = !fixture.Proxy.HasExited && await fixture.Proxy.WaitReadyAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        result.Measure("reloads", reloads.ToString());
        result.Thresholds.Add(Threshold.AtMost("errors", load.Errors, 0, ""));
        result.Thresholds.Add(Threshold.AtMost("lost", load.Lost, 0, ""));
        result.Thresholds.Add(Threshold.AtMost("p99", load.P99Ms, 100, " ms"));
        result.Thresholds.Add(new Threshold("ready after reloads", "GET /ready = 200", alive ? "200" : "not ready", alive ? Verdict.Pass : Verdict.Fail));
        return result;
    }
}
