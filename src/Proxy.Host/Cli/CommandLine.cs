namespace Proxy.Host.Cli;

/// <summary>
/// The command line: <c>proxy run|validate|demo|version</c>. Hand-written (AOT-clean) and small;
/// each command lives in its own class.
/// </summary>
public static class CommandLine
{
    public const string Usage = """
        usage: proxy <command> [options]

          run [--config] FILE [--log-format text|json] [--exit-when-app-gone IP:PORT]
                               run with a config file (YAML or JSON); SIGHUP or a file change reloads;
                               with --exit-when-app-gone, drain and exit once the application at
                               IP:PORT has stopped listening and no connection is left (batch jobs)
          validate [--config] FILE
                               print every error with its location; exit 1 if any, 0 when valid
          demo [--log-format text|json]
                               start sample upstreams and the proxy in front of them, print what to try
          certs ca --out DIR [--ttl 8760h]
                               make a mesh root CA (ECDSA P-256, PEM)
          certs issue --ca DIR --out DIR (--spiffe-id spiffe://DOMAIN/ns/NS/sa/SA | --dns NAME) [--ttl 24h]
                               issue a workload certificate with the SPIFFE URI SAN, or with
                               --dns alone an edge certificate for those names
          init --proxy-uid UID [--dry-run] [--remove] [--iptables-mode nft|legacy] ...
                               write the nat-table rules of transparent interception (see proxy init --help)
          wait-ready [--admin 127.0.0.1:15000] [--timeout 60s]
                               exit 0 once the admin server's /ready answers 200, 1 on timeout
          version              print the version and the commit it was built from

        proxy COMMAND --help describes a command.

        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length > 1 && args[0] == "help" && CommandHelp.For(args[1], args.AsSpan(2)) is { } commandHelp)
        {
            stdout.Write(commandHelp);
            return 0;
        }

        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.Write(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        if (CommandHelp.Asked(args.AsSpan(1)) && CommandHelp.For(args[0], args.AsSpan(1)) is { } help)
        {
            stdout.Write(help);
            return 0;
        }

        // Commands with their own options parse them themselves.
        switch (args[0])
        {
            case "certs":
                return CertsCommand.Execute(args.AsSpan(1), stdout, stderr);
            case "init":
                return InitCommand.Execute(args.AsSpan(1), stdout, stderr);
            case "wait-ready":
                return await WaitReadyCommand.ExecuteAsync(args[1..], stdout, stderr).ConfigureAwait(false);
        }

        if (args[0] is not ("run" or "validate" or "demo" or "version" or "--version"))
        {
            // "proxy --config x.yaml" is the common slip: name the command it needs rather than failing on the
            // option parser's view of the rest ("option x.yaml needs a value").
            stderr.WriteLine(args[0].StartsWith('-')
                ? $"proxy: '{args[0]}' is an option, not a command; did you mean 'proxy run {string.Join(' ', args)}'?"
                : $"proxy: unknown command '{args[0]}'");
            stderr.Write(Usage);
            return 2;
        }

        var options = CommandOptions.Parse(args.AsSpan(1), out var error);
        if (error is not null)
        {
            stderr.WriteLine($"proxy {args[0]}: {error}");
            stderr.Write(Usage);
            return 2;
        }

        switch (args[0])
        {
            case "run":
                return await RunCommand.ExecuteAsync(options, stderr).ConfigureAwait(false);
            case "validate":
                return ValidateCommand.Execute(options, stdout, stderr);
            case "demo":
                return await DemoCommand.ExecuteAsync(options, stdout, stderr).ConfigureAwait(false);
            case "version" or "--version":
                stdout.WriteLine(BuildInfo.Describe());
                return 0;
            default:
                stderr.WriteLine($"proxy: unknown command '{args[0]}'");
                stderr.Write(Usage);
                return 2;
        }
    }
}
