using Proxy.LoadTests.Client;
using Proxy.LoadTests.Load;
using Proxy.LoadTests.Reporting;

namespace Proxy.LoadTests.Cli;

/// <summary>
/// <c>rate</c>: open-model constant (or ramping) arrival rate against one URL.
/// <c>closed</c>: closed-model constant concurrency. Both print one summary line and optionally write JSON.
/// </summary>
public static class RateCommand
{
    private static readonly string[] RateOptions = ["--url", "--rps", "--ramp-to", "--duration", "--connections", "--timeout", "--json"];
    private static readonly string[] ClosedOptions = ["--url", "--concurrency", "--duration", "--requests", "--timeout", "--json"];

    /// <summary>Runs <c>rate</c>; exit 0 once the run completed (errors are data, not a failure of the tool).</summary>
    public static async Task<int> RunRateAsync(IReadOnlyList<string> args, TextWriter stdout, CancellationToken ct)
    {
        var a = new ArgReader(args, RateOptions, []);
        var url = ParseUrl(a.Required("--url"));
        double rps = a.Number("--rps", 1000);
        var duration = a.Duration("--duration", TimeSpan.FromSeconds(10));
        int connections = (int)a.Number("--connections", 16);
        var options = new LoadRunOptions { ResponseTimeout = a.Duration("--timeout", TimeSpan.FromSeconds(5)) };
        IArrivalSchedule schedule;
        string simulation;
        if (a.String("--ramp-to") is not null)
        {
            double to = a.Number("--ramp-to", rps);
            schedule = new RampSchedule(rps, to, duration);
            simulation = $"ramp {rps}/s to {to}/s over {duration.TotalSeconds}s on {connections} connections";
        }
        else
        {
            schedule = new ConstantRateSchedule(rps, duration);
            simulation = $"constant {rps}/s for {duration.TotalSeconds}s on {connections} connections";
        }

        var load = await OpenModelRunner.RunAsync(new Http1ConnectionFactory(url), schedule, connections, simulation, options, ct).ConfigureAwait(false);
        return Finish(load, a.String("--json"), stdout);
    }

    /// <summary>Runs <c>closed</c>.</summary>
    public static async Task<int> RunClosedAsync(IReadOnlyList<string> args, TextWriter stdout, CancellationToken ct)
    {
        var a = new ArgReader(args, ClosedOptions, []);
        var url = ParseUrl(a.Required("--url"));
        int concurrency = (int)a.Number("--concurrency", 16);
        var duration = a.Duration("--duration", TimeSpan.FromSeconds(10));
        long requests = (long)a.Number("--requests", long.MaxValue);
        var options = new LoadRunOptions { ResponseTimeout = a.Duration("--timeout", TimeSpan.FromSeconds(5)) };
        var load = await ClosedModelRunner.RunAsync(new Http1ConnectionFactory(url), concurrency, duration, requests, options, ct).ConfigureAwait(false);
        return Finish(load, a.String("--json"), stdout);
    }

    private static int Finish(LoadResult load, string? jsonPath, TextWriter stdout)
    {
        stdout.WriteLine(load.OneLine());
        if (jsonPath is not null)
        {
            LoadResultJson.WriteFile(jsonPath, load);
        }

        return 0;
    }

    private static Uri ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp
            ? url
            : throw new UsageException($"--url: '{text}' is not an http:// URL");
}
