using System.Runtime.InteropServices;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>Sends signals to processes the test started; renames as rename(2) does.</summary>
public static partial class Posix
{
    public const int SIGHUP = 1;
    public const int SIGUSR1 = 10;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>rename(2): atomically replaces <paramref name="to"/>, a symlink included (what File.Move cannot do for a link to a directory).</summary>
    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string from, string to);
}
