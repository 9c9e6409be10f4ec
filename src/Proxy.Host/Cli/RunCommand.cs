using System.Runtime.InteropServices;
using Proxy.Observability;

namespace Proxy.Host.Cli;

/// <summary>
/// <c>proxy run --config FILE</c>: serve until SIGTERM/SIGINT (drain, then exit 0). SIGHUP and file
/// changes reload the configuration.
/// </summary>
public static class RunCommand
{
    // SIGUSR1 has no PosixSignal member; raw signal numbers are accepted (10 on Linux).
    private const PosixSignal Sigusr1 = (PosixSignal)10;

    public static async Task<int> ExecuteAsync(CommandOptions options, TextWriter stderr)
    {
        if (options.ConfigPath is null)
        {
            stderr.WriteLine("proxy run: --config FILE is required");
            return 2;
        }

        return await ServeAsync(options.ConfigPath, configText: null, options, stderr, onStarted: null).ConfigureAwait(false);
    }

    /// <summary>Starts a host, wires the signals and waits for the drain to finish.</summary>
    public static async Task<int> ServeAsync(string? configPath, string? configText, CommandOptions options, TextWriter stderr, Func<ProxyHost, Task>? onStarted)
    {
        var log = Logger.StdErr(json: options.LogFormat == "json");
        ProxyHost host;
        try
        {
            host = await ProxyHost.StartAsync(configPath, configText, log, watchFile: configText is null).ConfigureAwait(false);
        }
        catch (ConfigRejectedException ex)
        {
            foreach (var error in ex.Errors)
            {
                stderr.WriteLine(error.ToString());
            }

            stderr.WriteLine($"{ex.Errors.Count} error(s); not starting");
            return 1;
        }
        catch (Runtime.ListenerBindException ex)
        {
            // Each failure is a sentence naming its listener (or file) and the fix.
            foreach (var failure in ex.Failures)
            {
                stderr.WriteLine($"proxy: cannot start: {failure}");
            }

            return 1;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
        {
            // Not expected (binds and files are reported above); never show the runtime's text, which is a resource key.
            stderr.WriteLine($"proxy: cannot start: {(ex is System.Net.Sockets.SocketException socket ? $"a socket operation failed (errno {socket.NativeErrorCode})" : "a file could not be read or written")}; run with log.level debug and report it");
            return 1;
        }

        // SIGTERM and SIGINT drain; the default action (exit at once) is cancelled.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; _ = host.RequestShutdownAsync(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; _ = host.RequestShutdownAsync(); });
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => { context.Cancel = true; _ = host.ReloadAsync(); });
        using var user1 = PosixSignalRegistration.Create(Sigusr1, context => { context.Cancel = true; host.ReopenAccessLog(); });

        if (onStarted is not null)
        {
            await onStarted(host).ConfigureAwait(false);
        }

        if (options.ExitWhenAppGone is { } app)
        {
            _ = AppWatcher.WatchAsync(app, host, log);
        }

        await host.ShutdownCompleted.ConfigureAwait(false);
        await host.DisposeAsync().ConfigureAwait(false);
        log.Info("exiting");
        await log.FlushAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        return 0;
    }
}
