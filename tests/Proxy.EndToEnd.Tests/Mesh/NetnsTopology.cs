using System.Diagnostics;
using System.Text;

namespace Proxy.EndToEnd.Tests.Mesh;

/// <summary>
/// Two Linux network namespaces joined by a veth pair (client 10.77.0.1, server 10.77.0.2), and the
/// processes the test starts inside them. Everything is removed on dispose, whatever happened:
/// processes are killed by id, then the namespaces (and with them the veth pair) are deleted.
/// </summary>
internal sealed class NetnsTopology : IDisposable
{
    private readonly List<Process> _processes = [];

    public NetnsTopology()
    {
        var id = Environment.ProcessId.ToString("x") + Random.Shared.Next(0x1000).ToString("x");
        Client = "pxc-" + id;
        Server = "pxs-" + id;
        ClientVeth = "vc" + id;
        ServerVeth = "vs" + id;
        Must("ip", "netns", "add", Client);
        Must("ip", "netns", "add", Server);
        Must("ip", "link", "add", ClientVeth, "type", "veth", "peer", "name", ServerVeth);
        Must("ip", "link", "set", ClientVeth, "netns", Client);
        Must("ip", "link", "set", ServerVeth, "netns", Server);
        Must("ip", "-n", Client, "addr", "add", ClientAddress + "/24", "dev", ClientVeth);
        Must("ip", "-n", Server, "addr", "add", ServerAddress + "/24", "dev", ServerVeth);
        foreach (var (ns, dev) in new[] { (Client, ClientVeth), (Server, ServerVeth) })
        {
            Must("ip", "-n", ns, "link", "set", dev, "up");
            Must("ip", "-n", ns, "link", "set", "lo", "up");
        }
    }

    public const string ClientAddress = "10.77.0.1";
    public const string ServerAddress = "10.77.0.2";

    public string Client { get; }

    public string Server { get; }

    public string ClientVeth { get; }

    public string ServerVeth { get; }

    /// <summary>Why the test cannot run here, or null.</summary>
    public static string? SkipReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (Environment.UserName != "root")
        {
            return "needs root (ip netns, veth, iptables); run the test suite as root to include it";
        }

        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY");
        if (string.IsNullOrEmpty(binary) || !File.Exists(binary))
        {
            return "PROXY_BINARY not set (or missing): run scripts/test.sh, which publishes the AOT binary first";
        }

        return Run("ip", "netns", "list").Code != 0 ? "the ip command (iproute2) is not available" : null;
    }

    /// <summary>Runs a command in a namespace and waits for it.</summary>
    public static (int Code, string Output) Exec(string ns, params string[] command) => Run("ip", ["netns", "exec", ns, .. command]);

    /// <summary>Starts a long-running command in a namespace; killed on dispose.</summary>
    public Process Start(string ns, params string[] command)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["netns", "exec", ns, .. command])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_processes)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Kills one process started here (by id, with its children).</summary>
    public static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var process in _processes)
            {
                try
                {
                    Stop(process);
                }
                catch (InvalidOperationException)
                {
                    // never started or already reaped
                }

                process.Dispose();
            }
        }

        Run("ip", "netns", "del", Client);
        Run("ip", "netns", "del", Server);
    }

    private static void Must(params string[] command)
    {
        var (code, output) = Run(command[0], command[1..]);
        if (code != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({code}): {output}");
        }
    }

    public static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A bound, not a measure: generous, since the suite shares two cores with everything else.
        var killed = !process.WaitForExit(180_000);
        if (killed)
        {
            process.Kill(entireProcessTree: true);
        }

        process.WaitForExit();
        var text = new StringBuilder().Append(stdout.Result).Append(stderr.Result).ToString();
        return (process.ExitCode, killed ? text + $"\n[killed: {file} ran past 180 s]" : text);
    }
}
