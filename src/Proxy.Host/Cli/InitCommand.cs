using System.Globalization;
using System.Net.Sockets;
using Proxy.Interception;

namespace Proxy.Host.Cli;

/// <summary>
/// <c>proxy init</c>: writes the nat-table rules of transparent interception (see
/// <see cref="IptablesRules"/>), or prints them with <c>--dry-run</c>, or removes them with
/// <c>--remove</c>. Re-running replaces the rules (idempotent).
/// </summary>
public static class InitCommand
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "--dry-run", "--remove", "--ipv6" };

    public const string Usage = """
        usage: proxy init [--proxy-uid UID] [--proxy-gid GID] [--proxy-mark MARK]
                          [--inbound-port 15006] [--outbound-port 15001] [--admin-port 15000]
                          [--include-inbound-ports P,..] [--exclude-inbound-ports P,..]
                          [--include-outbound-ports P,..] [--exclude-outbound-ports P,..]
                          [--include-outbound-cidrs CIDR,..] [--exclude-outbound-cidrs CIDR,..]
                          [--iptables-mode nft|legacy] [--ipv6] [--dry-run] [--remove]
        """;

    public static int Execute(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        var list = ArgList.Parse(args, Flags, out var error);
        var errors = new List<string>();
        if (error is not null)
        {
            errors.Add(error);
        }

        var options = new InterceptionOptions
        {
            InboundPort = Port(list, "--inbound-port", 15006, errors),
            OutboundPort = Port(list, "--outbound-port", 15001, errors),
            AdminPort = Port(list, "--admin-port", 15000, errors),
            ProxyUid = Number(list, "--proxy-uid", errors),
            ProxyGid = Number(list, "--proxy-gid", errors),
            ProxyMark = Number(list, "--proxy-mark", errors),
            InboundIncludePorts = Ports(list, "--include-inbound-ports", errors),
            InboundExcludePorts = Ports(list, "--exclude-inbound-ports", errors),
            OutboundIncludePorts = Ports(list, "--include-outbound-ports", errors),
            OutboundExcludePorts = Ports(list, "--exclude-outbound-ports", errors),
            OutboundIncludeCidrs = list.Values("--include-outbound-cidrs"),
            OutboundExcludeCidrs = list.Values("--exclude-outbound-cidrs"),
        };
        var modeText = list.Value("--iptables-mode") ?? "nft";
        var dryRun = list.Flag("--dry-run");
        var remove = list.Flag("--remove");
        var ipv6 = list.Flag("--ipv6");
        if (list.Unknown() is { } unknown)
        {
            errors.Add($"unknown option {unknown}");
        }

        if (modeText is not ("nft" or "legacy"))
        {
            errors.Add($"--iptables-mode must be nft or legacy, not '{modeText}'");
        }

        errors.AddRange(IptablesRules.Validate(options));
        if (!remove && options.ProxyUid is null && options.ProxyGid is null && options.ProxyMark is null)
        {
            errors.Add("give --proxy-uid, --proxy-gid or --proxy-mark: without one, the proxy's own connections are redirected back into it");
        }

        if (errors.Count > 0)
        {
            foreach (var message in errors)
            {
                stderr.WriteLine($"proxy init: {message}");
            }

            stderr.Write(Usage);
            return 2;
        }

        var mode = modeText == "legacy" ? IptablesMode.Legacy : IptablesMode.Nft;
        var families = ipv6 ? new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 } : [AddressFamily.InterNetwork];
        foreach (var family in families)
        {
            var runner = new IptablesRunner(mode, family == AddressFamily.InterNetworkV6);
            var rules = remove ? IptablesRules.GenerateRemove() : IptablesRules.Generate(options, family);
            if (dryRun)
            {
                stdout.WriteLine($"# {runner.Restore} --noflush");
                stdout.Write(rules);
                continue;
            }

            var failure = remove ? runner.Remove() : runner.Apply(rules);
            if (failure is not null)
            {
                stderr.WriteLine($"proxy init: {failure}");
                stderr.WriteLine("proxy init: writing iptables rules needs root (CAP_NET_ADMIN) in the target network namespace");
                return 1;
            }

            stdout.WriteLine(remove ? $"proxy init: removed interception rules ({runner.Iptables})" : $"proxy init: interception rules installed ({runner.Iptables})");
        }

        return 0;
    }

    private static int Port(ArgList list, string name, int fallback, List<string> errors) =>
        list.Value(name) is { } text ? Parse(text, name, errors) ?? fallback : fallback;

    private static int? Number(ArgList list, string name, List<string> errors) =>
        list.Value(name) is { } text ? Parse(text, name, errors) : null;

    private static List<int> Ports(ArgList list, string name, List<string> errors)
    {
        var ports = new List<int>();
        foreach (var text in list.Values(name))
        {
            if (Parse(text, name, errors) is { } port)
            {
                ports.Add(port);
            }
        }

        return ports;
    }

    private static int? Parse(string text, string name, List<string> errors)
    {
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value)
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok)
        {
            errors.Add($"{name}: '{text}' is not a number");
            return null;
        }

        return value;
    }
}
