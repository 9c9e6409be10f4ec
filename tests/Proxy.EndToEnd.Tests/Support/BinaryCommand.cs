using System.Diagnostics;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>Runs the published binary (PROXY_BINARY) with arguments until it exits, for tests of what it prints.</summary>
public static class BinaryCommand
{
    /// <summary>Runs <c>proxy ARGS</c>; kills it when it has not exited within <paramref name="timeout"/> (default 20 s).</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(IReadOnlyList<string> args, TimeSpan? timeout = null)
    {
        using var process = Process.Start(new ProcessStartInfo(BinaryProxy.Path!, args)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            Assert.Fail($"proxy {string.Join(' ', args)} did not exit; stderr so far: {await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
