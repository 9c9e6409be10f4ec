using System.Diagnostics;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>Runs the command-line HTTP/2 peers (curl, nghttp, h2load) the tests drive the proxy with.</summary>
internal static class Tool
{
    public static bool Exists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));

    public static async Task<(int Code, string Output)> RunAsync(string name, string arguments, int timeoutSeconds = 60)
    {
        var start = new ProcessStartInfo(name, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
