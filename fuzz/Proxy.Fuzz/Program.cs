using Proxy.Fuzz.Targets;
using Proxy.Fuzz.XdsTargets;
using SharpFuzz;

namespace Proxy.Fuzz;

/// <summary>
/// <c>dotnet Proxy.Fuzz.dll TARGET</c>: runs one fuzz target under AFL++ (SharpFuzz's out-of-process fork server,
/// so a hang or a FailFast kills only the child and is saved, not fatal). Outside AFL++ it runs the target once on
/// standard input, which is how a saved crash is replayed: <c>dotnet Proxy.Fuzz.dll TARGET &lt; crash-file</c>.
/// </summary>
public static class Program
{
    /// <summary>
    /// The library's targets (Targets/, also compiled into Proxy.Core.Tests) and the xDS ones (XdsTargets/, compiled into
    /// Proxy.EndToEnd.Tests, which references Proxy.Xds).
    /// </summary>
    private static IReadOnlyList<FuzzTarget> AllTargets { get; } = [.. FuzzTargets.All, XdsTranslationTarget.Target];

    public static int Main(string[] args)
    {
        if (args is ["--list"])
        {
            foreach (FuzzTarget each in AllTargets)
            {
                Console.WriteLine($"{each.Name,-20} {each.Summary}");
            }

            return 0;
        }

        FuzzTarget? target = args.Length == 1 ? AllTargets.FirstOrDefault(t => t.Name == args[0]) : null;
        if (target is null)
        {
            Console.Error.WriteLine("usage: dotnet Proxy.Fuzz.dll TARGET, where TARGET is one of: " + string.Join(", ", AllTargets.Select(t => t.Name)));
            return 2;
        }

        // fuzz.sh runs each target with DOTNET_PROCESSOR_COUNT=1 (one afl-fuzz per core). The thread pool then keeps to
        // one thread, so a target that goes async (h2-connection) runs its work items one at a time, in a repeatable
        // order: coverage that depends on thread timing would make AFL++ see new paths that are noise. The pool refuses
        // fewer threads than processors, so elsewhere this changes nothing.
        if (Environment.ProcessorCount == 1)
        {
            ThreadPool.SetMinThreads(1, 1);
            ThreadPool.SetMaxThreads(1, 1);
        }

        byte[] buffer = new byte[64 * 1024];
        Fuzzer.OutOfProcess.Run(stream =>
        {
            // The input is read whole into a reused buffer; AFL++ inputs are small (they are capped at 64 KiB here).
            int length = 0;
            int read;
            while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
            }

            target.Run(buffer.AsSpan(0, length));
        });
        return 0;
    }
}
