using System.Diagnostics;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Reporting;
using Proxy.LoadTests.Scenarios;

namespace Proxy.LoadTests.Cli;

/// <summary><c>scenarios [--only NAME] [--short] [--report DIR]</c>: runs the suite and writes the reports.</summary>
public static class ScenariosCommand
{
    private static readonly string[] Options = ["--only", "--report"];
    private static readonly string[] Flags = ["--short", "--list"];

    /// <summary>Every scenario, in the order they run.</summary>
    public static IReadOnlyList<IScenario> All { get; } =
    [
        new SteadyHttp1Scenario(),
        new SteadyHttp2Scenario(),
        new SpikeScenario(),
        new EndpointKilledScenario(),
        new SlowEndpointScenario(),
        new ConfigReloadScenario(),
        new IdleConnectionsScenario(),
        new MtlsHandshakeStormScenario(),
        new SlowlorisScenario(),
    ];

    /// <summary>Exit 0 when nothing failed (PASS or SKIP), 1 when a scenario failed, 2 on bad usage.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, string fdLimitLine, CancellationToken ct)
    {
        var a = new ArgReader(args, Options, Flags);
        if (a.Flag("--list"))
        {
            foreach (var s in All)
            {
                stdout.WriteLine($"{s.Name,-24} {s.Description}");
            }

            return 0;
        }

        var selected = new List<IScenario>();
        string? only = a.String("--only");
        foreach (var s in All)
        {
            if (only is null || Array.IndexOf(only.Split(','), s.Name) >= 0)
            {
                selected.Add(s);
            }
        }

        if (selected.Count == 0)
        {
            throw new UsageException($"--only: no scenario named '{only}' (see --list)");
        }

        string binary = RepoPaths.ProxyBinary;
        if (!File.Exists(binary))
        {
            stdout.WriteLine($"scenarios: proxy binary not found at {binary}; run scripts/publish.sh (or set PROXY_BINARY)");
            return 1;
        }

        string work = Path.Combine(Path.GetTempPath(), $"proxy-loadtests-{Environment.ProcessId}");
        var context = new ScenarioContext { Short = a.Flag("--short"), ProxyBinary = binary, WorkDir = work, Log = stdout, Cancellation = ct };
        var environment = new List<string>
        {
            $"mode: {(context.Short ? "short" : "full")}",
            $"proxy: {binary}",
            fdLimitLine,
            $"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
            $"started: {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC",
        };

        var results = new List<ScenarioResult>();
        try
        {
            foreach (var scenario in selected)
            {
                if (ct.IsCancellationRequested)
                {
                    break;
                }

                stdout.WriteLine($"== {scenario.Name}");
                var clock = Stopwatch.StartNew();
                ScenarioResult result;
                try
                {
                    result = await scenario.RunAsync(context).ConfigureAwait(false);
                }
                catch (FixtureException e)
                {
                    result = new ScenarioResult(scenario.Name, scenario.Description).Fail(e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A crash in one scenario is its FAIL, not the end of the suite; the stack goes to the log.
                    stdout.WriteLine(e.ToString());
                    result = new ScenarioResult(scenario.Name, scenario.Description).Fail($"crashed: {e.GetType().Name}: {e.Message}");
                }

                result.Elapsed = clock.Elapsed;
                results.Add(result);
                stdout.WriteLine($"   {SuiteReport.VerdictText(result.Verdict)} ({clock.Elapsed.TotalSeconds:0.0}s): {result.Reason}");
                if (result.Load is { } load)
                {
                    stdout.WriteLine($"   {load.OneLine()}");
                }
            }
        }
        finally
        {
            ChildProcesses.KillAll();
            TryDelete(work);
        }

        var (md, json) = SuiteReport.Write(a.String("--report") ?? Path.Combine(RepoPaths.Root, "results"), results, environment);
        stdout.WriteLine($"report: {md} and {json}");
        return results.Exists(r => r.Verdict == Verdict.Fail) ? 1 : 0;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was written.
        }
    }
}
