using Proxy.LoadTests.Cli;
using Proxy.LoadTests.Harness;

// Socket continuations inline on the socket engine threads, as in the proxy (DESIGN.md, "Scheduling"):
// fewer thread hops between a response arriving and its latency being recorded. Read once, so first.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

// The generator keeps up to tens of thousands of sockets: raise the descriptor limit
// (children, i.e. the proxy under test, inherit it).
string fdLimit = FdLimit.Raise();
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

const string Usage = """
    usage:
      Proxy.LoadTests rate --url http://HOST:PORT/path [--rps N] [--ramp-to N] [--duration 10s] [--connections 16] [--timeout 5s] [--json OUT.json]
      Proxy.LoadTests closed --url http://HOST:PORT/path [--concurrency 16] [--duration 10s] [--requests N] [--timeout 5s] [--json OUT.json]
      Proxy.LoadTests scenarios [--only NAME[,NAME]] [--short] [--report DIR] [--list]
      Proxy.LoadTests selftest
      Proxy.LoadTests serve [--port 8081] [--delay 0ms] [--body 64] [--for 60s]
    """;

try
{
    return args.Length == 0 ? Fail("a command is required") : args[0] switch
    {
        "rate" => await RateCommand.RunRateAsync(args[1..], Console.Out, cancel.Token),
        "closed" => await RateCommand.RunClosedAsync(args[1..], Console.Out, cancel.Token),
        "selftest" => SelfTestCommand.Run(Console.Out),
        "serve" => await ServeCommand.RunAsync(args[1..], Console.Out, cancel.Token),
        "scenarios" => await ScenariosCommand.RunAsync(args[1..], Console.Out, fdLimit, cancel.Token),
        "-h" or "--help" or "help" => Help(),
        _ => Fail($"unknown command '{args[0]}'"),
    };
}
catch (UsageException e)
{
    return Fail(e.Message);
}
finally
{
    ChildProcesses.KillAll();
}

int Fail(string message)
{
    Console.Error.WriteLine(message);
    Console.Error.WriteLine(Usage);
    return 2;
}

int Help()
{
    Console.WriteLine(Usage);
    return 0;
}
