using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>
/// One of three upstream endpoints dies mid-run (its connections reset, its port refuses). Counts
/// the errors clients see; with retries the proxy should hide them all.
/// </summary>
public sealed class EndpointKilledScenario : IScenario
{
    private const string RetryPolicy = "{ attempts: 3, retry_on: [connect-failure, reset, gateway-error], per_try_timeout: 1s }";

    /// <inheritdoc />
    public string Name => "endpoint-killed";

    /// <inheritdoc />
    public string Description => "steady load on three upstreams; one is killed (RST on its connections, port closed) 40% into the run";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var (retries, retryDetail) = await ProbeRetriesAsync(context).ConfigureAwait(false);
        result.Measure("retries supported", retries ? "yes" : "no: " + retryDetail);

        var options = new ProxyConfigOptions { Retries = retries ? RetryPolicy : null };
        using var fixture = await ProxyFixture.StartAsync(context, Name, options).ConfigureAwait(false);
        var (url, _) = await ListenerChoice.ChooseAsync(fixture, result).ConfigureAwait(false);

        double rps = context.Pick(400, 1000);
        var duration = TimeSpan.FromSeconds(context.Pick(8, 30));
        int connections = 32;
        var victim = fixture.Upstreams[1];
        long survivorsAtKill = 0;
        var killer = Task.Run(async () =>
        {
            await Task.Delay(duration * 0.4, context.Cancellation).ConfigureAwait(false);
            survivorsAtKill = fixture.Upstreams[0].Requests + fixture.Upstreams[2].Requests;
            victim.Kill();
            context.Log.WriteLine($"  killed upstream {victim.Name} ({victim.Address}) after {victim.Requests} requests");
        });

        var load = await OpenModelRunner.RunAsync(new Http1ConnectionFactory(url), new ConstantRateSchedule(rps, duration), connections,
            $"constant {rps}/s for {duration.TotalSeconds}s on {connections} connections, {victim.Name} killed at 40%",
            cancellationToken: context.Cancellation).ConfigureAwait(false);
        await killer.ConfigureAwait(false);
        result.Load = load;

        long survivorsAfter = fixture.Upstreams[0].Requests + fixture.Upstreams[2].Requests - survivorsAtKill;
        result.Measure("client-visible errors", $"{load.Errors} ({load.ErrorRate * 100:0.###} %)");
        result.Measure("requests served by survivors after the kill", survivorsAfter.ToString());
        result.Thresholds.Add(retries
            ? Threshold.AtMost("client-visible errors", load.Errors, 0, "")
            : Threshold.Skipped("client-visible errors", "0 (retries cover connect failures and resets)", load.Errors.ToString(),
                "retries are not supported yet (" + retryDetail + "); the measured count is reported"));
        result.Thresholds.Add(Threshold.AtMost("lost", load.Lost, 0, ""));
        result.Thresholds.Add(Threshold.AtLeast("survivors keep serving", survivorsAfter, 1, " requests"));
        return result;
    }

    /// <summary>
    /// Retries count as supported when the validator accepts a route with <c>retries</c>, the http
    /// listener forwards, and a cluster of one dead and one live endpoint answers every request.
    /// </summary>
    private static async Task<(bool Works, string Detail)> ProbeRetriesAsync(ScenarioContext context)
    {
        var options = new ProxyConfigOptions { Retries = RetryPolicy };
        string yaml = ProxyConfigBuilder.Build(FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), ["127.0.0.1:9", "127.0.0.1:10"], options);
        var (valid, output) = await FeatureProbes.ValidatorAcceptsAsync(context.ProxyBinary, context.Directory("endpoint-killed-probe"), yaml).ConfigureAwait(false);
        if (!valid)
        {
            return (false, "the validator rejects 'retries': " + output);
        }

        // A dead endpoint (a port that was free a moment ago) beside a live one: without retries,
        // round robin sends half the requests to the dead one and they fail.
        using var fixture = await ProxyFixture.StartAsync(context, "endpoint-killed-probe", options, upstreamCount: 1,
            extraEndpoints: [$"127.0.0.1:{FreePorts.Next()}"]).ConfigureAwait(false);
        var (http, detail) = await FeatureProbes.HttpForwardingAsync(fixture).ConfigureAwait(false);
        if (!http)
        {
            return (false, "retries need http forwarding: " + detail);
        }

        var factory = new Http1ConnectionFactory(fixture.HttpUrl);
        int failed = 0;
        for (int i = 0; i < 8; i++)
        {
            using var connection = factory.Create();
            if ((await connection.SendAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false)).Outcome != RequestOutcome.Ok)
            {
                failed++;
            }
        }

        return failed == 0
            ? (true, "8/8 requests answered with a dead endpoint in the cluster")
            : (false, $"the validator accepts 'retries' but {failed}/8 requests failed with a dead endpoint in the cluster");
    }
}
