using Proxy.LoadTests.Upstream;

namespace Proxy.LoadTests.Cli;

/// <summary><c>serve --port N [--delay 0ms] [--body 64] [--for 60s]</c>: runs one tiny upstream, for manual runs and direct baselines.</summary>
public static class ServeCommand
{
    private static readonly string[] Options = ["--port", "--delay", "--body", "--for"];

    /// <summary>Serves until Ctrl-C or the --for time is up.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, CancellationToken ct)
    {
        var a = new ArgReader(args, Options, []);
        using var server = new TinyHttpServer("serve", (int)a.Number("--port", 8081), (int)a.Number("--body", 64))
        {
            Delay = a.String("--delay") is null ? TimeSpan.Zero : a.Duration("--delay", TimeSpan.Zero),
        };
        stdout.WriteLine($"serving on http://{server.Address}/");
        try
        {
            await Task.Delay(a.Duration("--for", TimeSpan.FromDays(1)), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: stop serving.
        }

        stdout.WriteLine($"served {server.Requests} requests");
        return 0;
    }
}
