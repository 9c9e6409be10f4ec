using System.Runtime.InteropServices;

namespace Proxy.LoadTests.Harness;

/// <summary>The process's open-file limit, raised to the hard limit at start (children inherit it).</summary>
public static class FdLimit
{
    /// <summary>The soft limit before <see cref="Raise"/>.</summary>
    public static ulong Before { get; private set; }

    /// <summary>The soft limit in force now.</summary>
    public static ulong Current { get; private set; }

    /// <summary>The hard limit (the ceiling an unprivileged process can raise to).</summary>
    public static ulong Hard { get; private set; }

    /// <summary>Raises the soft limit to the hard one where the OS allows; returns a line for the report.</summary>
    public static string Raise()
    {
        if (!OperatingSystem.IsLinux() || NativeMethods.getrlimit(NativeMethods.RlimitNoFile, out var limit) != 0)
        {
            return "fd limit: unknown (not Linux or getrlimit failed)";
        }

        Before = limit.Current;
        Hard = limit.Maximum;
        if (limit.Current < limit.Maximum)
        {
            var raised = new NativeMethods.RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
            if (NativeMethods.setrlimit(NativeMethods.RlimitNoFile, raised) == 0)
            {
                limit = raised;
            }
            else
            {
                Current = limit.Current;
                return $"fd limit: {limit.Current} (raising to {limit.Maximum} failed, errno {Marshal.GetLastPInvokeError()})";
            }
        }

        Current = limit.Current;
        return Before == Current
            ? $"fd limit: {Current} (already at the hard limit {Hard})"
            : $"fd limit: raised from {Before} to {Current} (hard limit)";
    }
}
