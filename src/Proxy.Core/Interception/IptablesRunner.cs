using System.ComponentModel;
using System.Diagnostics;

namespace Proxy.Interception;

/// <summary>
/// Applies and removes the interception rules with the chosen iptables backend: deletes our jumps
/// from PREROUTING/OUTPUT (so they never repeat), then feeds the generated input to
/// <c>iptables-restore --noflush</c>. Cold path: runs once, in <c>proxy init</c>.
/// </summary>
public sealed class IptablesRunner(IptablesMode mode, bool ipv6 = false)
{
    private string Family => ipv6 ? "ip6tables" : "iptables";

    /// <summary>The iptables binary (e.g. <c>iptables-nft</c>).</summary>
    public string Iptables => $"{Family}-{(mode == IptablesMode.Legacy ? "legacy" : "nft")}";

    /// <summary>The restore binary (e.g. <c>iptables-nft-restore</c>).</summary>
    public string Restore => Iptables + "-restore";

    /// <summary>Installs <paramref name="rules"/>; returns null on success or the error text.</summary>
    public string? Apply(string rules)
    {
        var error = RemoveJumps();
        return error ?? Run(Restore, ["--noflush"], rules).Error;
    }

    /// <summary>Removes our jumps and chains; null on success or the error text.</summary>
    public string? Remove()
    {
        var error = RemoveJumps();
        if (error is not null)
        {
            return error;
        }

        // Nothing to remove is success: check whether our chains exist first.
        var (exists, _) = Run(Iptables, ["-w", "-t", "nat", "-n", "-L", IptablesRules.InboundChain], null);
        return exists ? Run(Restore, ["--noflush"], IptablesRules.GenerateRemove()).Error : null;
    }

    private string? RemoveJumps()
    {
        foreach (var (chain, spec) in IptablesRules.Jumps)
        {
            // Delete until none is left (an earlier run may have added it more than once).
            for (var i = 0; i < 100; i++)
            {
                var (deleted, error) = Run(Iptables, ["-w", "-t", "nat", "-D", chain, .. spec], null);
                if (!deleted)
                {
                    if (error is not null && IsFatal(error))
                    {
                        return error;
                    }

                    break;
                }
            }
        }

        return null;
    }

    /// <summary>A failed delete is normal (nothing to delete) unless we may not run iptables at all.</summary>
    private static bool IsFatal(string error) =>
        error.StartsWith("cannot run", StringComparison.Ordinal)
        || error.Contains("Permission denied", StringComparison.OrdinalIgnoreCase)
        || error.Contains("must be root", StringComparison.OrdinalIgnoreCase)
        || error.Contains("Operation not permitted", StringComparison.OrdinalIgnoreCase);

    private static (bool Ok, string? Error) Run(string file, string[] args, string? input)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(start)!;
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }

            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var message = stderr.Result.Trim();
            return process.ExitCode == 0
                ? (true, null)
                : (false, $"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {(message.Length > 0 ? message : "no message")}");
        }
        catch (Win32Exception ex)
        {
            return (false, ex.NativeErrorCode switch
            {
                2 => $"cannot run {file}: it is not on the PATH; install iptables (or iptables-nft)",
                13 => $"cannot run {file}: permission denied; run as root or with CAP_NET_ADMIN",
                _ => $"cannot run {file} (errno {ex.NativeErrorCode}); check that iptables is installed and runnable",
            });
        }
    }
}
