using System.Collections.Concurrent;
using System.Diagnostics;

namespace Proxy.LoadTests.Harness;

/// <summary>
/// Every process the runner starts, so each is killed by its PID at the end, on failure, on
/// Ctrl-C and at process exit. Never kills anything it did not start.
/// </summary>
public static class ChildProcesses
{
    private static readonly ConcurrentDictionary<int, Process> Started = new();

    static ChildProcesses()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    /// <summary>Remembers <paramref name="process"/> until it is killed.</summary>
    public static void Track(Process process) => Started[process.Id] = process;

    /// <summary>Kills one started process by PID and forgets it.</summary>
    public static void Kill(Process process)
    {
        Started.TryRemove(process.Id, out _);
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill: the goal is reached.
        }
    }

    /// <summary>Kills every process still tracked.</summary>
    public static void KillAll()
    {
        foreach (var process in Started.Values)
        {
            Kill(process);
        }
    }
}
