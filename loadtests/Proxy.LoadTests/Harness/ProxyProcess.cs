using System.Diagnostics;
using System.Net;
using Proxy.LoadTests.Client;

namespace Proxy.LoadTests.Harness;

/// <summary>
/// One running proxy binary with its own config file: start, wait for /ready, reload (rewrite the
/// file and SIGHUP), read its RSS from /proc, and kill it by PID.
/// </summary>
public sealed class ProxyProcess : IDisposable
{
    private const int LogLines = 200;
    private readonly Process _process;
    private readonly Queue<string> _log = new();

    private ProxyProcess(Process process, string configPath, int adminPort)
    {
        _process = process;
        ConfigPath = configPath;
        AdminPort = adminPort;
    }

    /// <summary>The proxy's PID.</summary>
    public int Pid => _process.Id;

    /// <summary>The config file it runs with.</summary>
    public string ConfigPath { get; }

    /// <summary>The admin port (GET /ready).</summary>
    public int AdminPort { get; }

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Writes <paramref name="yaml"/> to <paramref name="configPath"/> and starts <c>proxy run --config</c> on it.</summary>
    public static ProxyProcess Start(string binary, string configPath, string yaml, int adminPort)
    {
        File.WriteAllText(configPath, yaml);
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("run");
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(configPath);
        var process = new Process { StartInfo = info };
        var proxy = new ProxyProcess(process, configPath, adminPort);
        process.OutputDataReceived += (_, e) => proxy.Append(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Append(e.Data);
        process.Start();
        ChildProcesses.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return proxy;
    }

    /// <summary>Runs <c>proxy validate --config</c> on <paramref name="yaml"/>; true when it exits 0.</summary>
    public static async Task<(bool Valid, string Output)> ValidateAsync(string binary, string configPath, string yaml)
    {
        await File.WriteAllTextAsync(configPath, yaml).ConfigureAwait(false);
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("validate");
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(configPath);
        using var process = Process.Start(info)!;
        ChildProcesses.Track(process);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            ChildProcesses.Kill(process);
        }

        return (process.ExitCode == 0, ((await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false))).Trim());
    }

    /// <summary>Polls GET /ready until it answers 200; false if the process exits or the time runs out.</summary>
    public async Task<bool> WaitReadyAsync(TimeSpan timeout)
    {
        var url = new Uri($"http://127.0.0.1:{AdminPort}/ready");
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && !HasExited)
        {
            using var connection = new Http1Connection(new IPEndPoint(IPAddress.Loopback, AdminPort), Http1ConnectionFactory.BuildGet(url));
            var result = await connection.SendAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            if (result.Status == 200)
            {
                return true;
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>Replaces the config file atomically (write then rename) and sends SIGHUP.</summary>
    public void Reload(string yaml)
    {
        string temp = ConfigPath + ".tmp";
        File.WriteAllText(temp, yaml);
        File.Move(temp, ConfigPath, overwrite: true);
        NativeMethods.kill(Pid, NativeMethods.SigHup);
    }

    /// <summary>VmRSS from /proc/PID/status in KiB, or -1 if unreadable.</summary>
    public long RssKib() => ProcStatus.ReadKib(Pid, "VmRSS:");

    /// <summary>The last lines the proxy printed.</summary>
    public string LogTail()
    {
        lock (_log)
        {
            return string.Join('\n', _log);
        }
    }

    /// <summary>Kills the proxy by PID.</summary>
    public void Dispose()
    {
        ChildProcesses.Kill(_process);
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Enqueue(line);
            if (_log.Count > LogLines)
            {
                _log.Dequeue();
            }
        }
    }
}
