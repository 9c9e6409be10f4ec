using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Runtime;

namespace Proxy.EndToEnd.Tests.Lifecycle;

/// <summary>
/// A listening address belongs to one process: a second copy of the proxy on the same listener or admin address
/// fails to start, naming the address and whose it is, instead of sharing the port (SO_REUSEPORT) and getting half
/// the connections. Reloads that keep, rename or move a listener still work without sharing.
/// </summary>
public class BindingTests
{
    private static string Config(int listenerPort, int adminPort, string listenerName = "web", string host = "127.0.0.1") => $$"""
        admin: { address: 127.0.0.1:{{adminPort}} }
        listeners:
          - { name: {{listenerName}}, address: {{host}}:{{listenerPort}}, protocol: tcp, cluster: backend }
        clusters:
          - { name: backend, endpoints: [ 127.0.0.1:9 ] }
        """;

    /// <summary>Runs the binary with <paramref name="yaml"/> until it exits (it must, within 20 s); its exit code and stderr.</summary>
    private static async Task<(int ExitCode, string Stderr)> RunToExitAsync(string yaml)
    {
        var folder = Directory.CreateTempSubdirectory("proxy-bind-").FullName;
        try
        {
            var config = Path.Combine(folder, "proxy.yaml");
            await File.WriteAllTextAsync(config, yaml);
            using var process = Process.Start(new ProcessStartInfo(BinaryProxy.Path!, ["run", "--config", config])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync();
                Assert.Fail($"the second instance started and kept running: {await stderr}");
            }

            return (process.ExitCode, await stderr);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [SkippableFact]
    public async Task Binary_SecondInstanceOnTheSameListenerAddress_ExitsNamingListenerAndAddress()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        int listenerPort = TcpClientHelpers.UnusedPort();
        int adminPort = TcpClientHelpers.UnusedPort();
        using var first = await BinaryProxy.StartAsync(Config(listenerPort, adminPort), adminPort);

        var (exitCode, stderr) = await RunToExitAsync(Config(listenerPort, TcpClientHelpers.UnusedPort()));

        Assert.NotEqual(0, exitCode);
        Assert.Contains($"listener web cannot listen on 127.0.0.1:{listenerPort}: another process (or another listener of this proxy) already uses that address", stderr);
        Assert.False(first.HasExited);
    }

    [SkippableFact]
    public async Task Binary_SecondInstanceOnTheSameAdminAddress_ExitsNamingTheAdminServer()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        int adminPort = TcpClientHelpers.UnusedPort();
        using var first = await BinaryProxy.StartAsync(Config(TcpClientHelpers.UnusedPort(), adminPort), adminPort);

        var (exitCode, stderr) = await RunToExitAsync(Config(TcpClientHelpers.UnusedPort(), adminPort));

        Assert.NotEqual(0, exitCode);
        Assert.Contains($"the admin server (admin.address) cannot listen on 127.0.0.1:{adminPort}: another process (or another listener of this proxy) already uses that address", stderr);
        Assert.Equal(200, (await first.Admin.GetAsync("/ready")).Status);
    }

    [Fact]
    public async Task SecondHost_SameListenerAddress_StartFailsNamingIt()
    {
        int listenerPort = TcpClientHelpers.UnusedPort();
        await using var first = await RunningProxy.StartAsync(Config(listenerPort, 0));

        var error = await Assert.ThrowsAsync<ListenerBindException>(() => RunningProxy.StartAsync(Config(listenerPort, 0)));

        Assert.Equal($"listener web cannot listen on 127.0.0.1:{listenerPort}: another process (or another listener of this proxy) already uses that address; stop it or choose another port", error.Message);
    }

    [Fact]
    public async Task Reload_ListenerRenamedAtTheSameAddress_KeepsTheSocket()
    {
        await using var upstream = TcpUpstream.Named("a");
        int port = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(Config(port, 0).Replace("127.0.0.1:9", upstream.Address));

        await proxy.RewriteConfig(Config(port, 0, listenerName: "renamed").Replace("127.0.0.1:9", upstream.Address));
        Assert.True(await proxy.Host.ReloadAsync());

        Assert.Equal(port, proxy.Listener("renamed").Port);
        Assert.False(proxy.Host.Runtime.BoundAddresses.ContainsKey("web"));
        using var client = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal("a", await client.ReadLineAsync());
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_listener_connections_opened_total{listener=\"renamed\"}"));
    }

    [Fact]
    public async Task Reload_ListenerMovedToTheWildcardOfItsPort_Rebinds()
    {
        await using var upstream = TcpUpstream.Named("a");
        int port = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(Config(port, 0).Replace("127.0.0.1:9", upstream.Address));

        await proxy.RewriteConfig(Config(port, 0, host: "0.0.0.0").Replace("127.0.0.1:9", upstream.Address));
        Assert.True(await proxy.Host.ReloadAsync());

        Assert.Equal(new IPEndPoint(IPAddress.Any, port), proxy.Listener("web"));
        using var client = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal("a", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Reload_MoveBlockedByAnotherProcess_RunningListenerRestored()
    {
        await using var upstream = TcpUpstream.Named("a");
        int port = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(Config(port, 0).Replace("127.0.0.1:9", upstream.Address));

        // Another process holds 127.0.0.2 on the same port: moving the listener to the wildcard must fail, and the
        // listener it stopped to try must be bound again.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), port));
        other.Listen();
        await proxy.RewriteConfig(Config(port, 0, host: "0.0.0.0").Replace("127.0.0.1:9", upstream.Address));
        Assert.False(await proxy.Host.ReloadAsync());

        var expected = $"listener web cannot listen on 0.0.0.0:{port}: another process (or another listener of this proxy) already uses that address";
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Log.ToString().Contains(expected))), proxy.Log.ToString());
        using var client = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        Assert.Equal("a", await client.ReadLineAsync());
    }
}
