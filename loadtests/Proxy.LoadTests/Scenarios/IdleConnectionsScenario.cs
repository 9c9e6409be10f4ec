using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;

namespace Proxy.LoadTests.Scenarios;

/// <summary>
/// Holds many idle keep-alive connections open through the proxy (10,000 in the full suite, fewer
/// when the descriptor limit does not allow it) and reports the proxy's memory per connection.
/// </summary>
public sealed class IdleConnectionsScenario : IScenario
{
    /// <summary>Descriptors kept aside for everything else (listeners, pipes, the runtime).</summary>
    private const int ReservedFds = 1024;

    /// <inheritdoc />
    public string Name => "idle-connections";

    /// <inheritdoc />
    public string Description => "open many keep-alive connections through the proxy, one request each, then hold them idle; RSS per connection";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        using var fixture = await ProxyFixture.StartAsync(context, Name, new ProxyConfigOptions()).ConfigureAwait(false);
        var (url, http) = await ListenerChoice.ChooseAsync(fixture, result).ConfigureAwait(false);

        // Through the tcp listener each connection costs two descriptors in the proxy (downstream and
        // upstream) and two here (the client and the in-process upstream's side); through http the
        // upstream side is pooled, so about one in each.
        int wanted = context.Pick(2000, 10_000);
        int perConnection = http ? 1 : 2;
        long limit = (long)Math.Min(FdLimit.Current == 0 ? 1024 : FdLimit.Current, int.MaxValue);
        int budget = (int)Math.Max(0, (limit - ReservedFds) / perConnection);
        int count = Math.Min(wanted, budget);
        if (count < wanted)
        {
            result.Notes.Add($"reduced from {wanted} to {count} connections: fd limit {limit}, {perConnection} fd(s) per connection per process, {ReservedFds} reserved");
        }

        var factory = new Http1ConnectionFactory(url);

        // ChooseAsync warmed the proxy up, so the baseline includes its steady-state buffers and pools.
        await Task.Delay(500).ConfigureAwait(false);
        long rssBefore = fixture.Proxy.RssKib();
        int fdsBefore = ProcStatus.OpenFds(fixture.Proxy.Pid);

        var connections = new Http1Connection[count];
        int opened = 0;
        int next = -1;
        var openers = new Task[64];
        for (int w = 0; w < openers.Length; w++)
        {
            openers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count && !context.Cancellation.IsCancellationRequested)
                {
                    var connection = connections[i] = factory.CreateHttp1();
                    var r = await connection.SendAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                    if (r.Outcome == RequestOutcome.Ok && connection.IsConnected)
                    {
                        Interlocked.Increment(ref opened);
                    }
                }
            });
        }

        await Task.WhenAll(openers).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(context.Pick(2, 5))).ConfigureAwait(false);
        long rssAfter = fixture.Proxy.RssKib();
        int fdsAfter = ProcStatus.OpenFds(fixture.Proxy.Pid);

        // Are the idle connections still usable? Ask a sample of them for one more response.
        int sample = Math.Min(200, count), sampleOk = 0;
        for (int i = 0; i < sample; i++)
        {
            var connection = connections[(int)((long)i * count / sample)];
            if (connection is not null && connection.IsConnected
                && (await connection.SendAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false)).Outcome == RequestOutcome.Ok)
            {
                sampleOk++;
            }
        }

        foreach (var connection in connections)
        {
            connection?.Dispose();
        }

        double perConnKib = opened == 0 ? 0 : (double)(rssAfter - rssBefore) / opened;
        result.Measure("fd limit", FdLimit.Before == FdLimit.Current
            ? $"{limit} (already the hard limit)"
            : $"{limit} (raised from {FdLimit.Before}; hard limit {FdLimit.Hard})");
        result.Measure("connections held idle", $"{opened} of {count}");
        result.Measure("proxy RSS before / after", $"{rssBefore / 1024.0:0.0} MiB / {rssAfter / 1024.0:0.0} MiB");
        result.Measure("proxy RSS per connection", $"{perConnKib:0.0} KiB");
        result.Measure("proxy open fds before / after", $"{fdsBefore} / {fdsAfter}");
        result.Thresholds.Add(Threshold.AtLeast("connections opened", opened, count, ""));
        result.Thresholds.Add(Threshold.AtLeast("idle connections still answer", sampleOk, sample, $" of {sample}"));
        result.Thresholds.Add(Threshold.AtMost("proxy RSS per connection", perConnKib, 64, " KiB", "0.0"));
        return result;
    }
}
