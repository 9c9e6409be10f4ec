using System.Runtime.InteropServices;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>Sends signals to processes the test started.</summary>
public static partial class Posix
{
    public const int SIGHUP = 1;
    public const int SIGUSR1 = 10;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
