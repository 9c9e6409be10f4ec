using System.Runtime.InteropServices;

namespace Proxy.LoadTests.Harness;

/// <summary>The few libc calls the harness needs (Linux): descriptor limits and signals.</summary>
internal static partial class NativeMethods
{
    /// <summary>RLIMIT_NOFILE on Linux.</summary>
    public const int RlimitNoFile = 7;

    /// <summary>SIGHUP: the proxy reloads its configuration.</summary>
    public const int SigHup = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getrlimit(int resource, out RLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setrlimit(int resource, in RLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);
}
