using Proxy.Host.Cli;

// Socket continuations run inline on the socket engine threads (one per core, like nginx workers):
// measured as the largest single CPU-per-request win (DESIGN.md, "Scheduling"). The runtime reads
// this once, when the first socket operation starts, so it must be set before anything else.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

return await CommandLine.RunAsync(args, Console.Out, Console.Error);
