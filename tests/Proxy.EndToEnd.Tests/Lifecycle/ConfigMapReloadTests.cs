using Proxy.EndToEnd.Tests.Support;
using Proxy.Host;
using Proxy.Observability;

namespace Proxy.EndToEnd.Tests.Lifecycle;

/// <summary>
/// A Kubernetes ConfigMap volume changes the way the kubelet's AtomicWriter does it: the file is a
/// symlink <c>config.yaml -> ..data/config.yaml</c>, <c>..data</c> a symlink to a timestamped
/// directory, and an update writes a new directory, points a new <c>..data_tmp</c> symlink at it and
/// renames that over <c>..data</c>. No event names config.yaml; the proxy must reload all the same.
/// </summary>
public sealed class ConfigMapReloadTests : IDisposable
{
    private readonly string _volume = Directory.CreateTempSubdirectory("proxy-configmap-").FullName;

    public void Dispose() => Directory.Delete(_volume, recursive: true);

    private static string Config(string endpoint, int listenerPort = 0) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - { name: tcp, address: 127.0.0.1:{{listenerPort}}, protocol: tcp, cluster: backend }
        clusters:
          - { name: backend, endpoints: [ {{endpoint}} ] }
        """;

    /// <summary>One kubelet update: a new timestamped directory, ..data swapped to it by rename, the old one removed.</summary>
    private void Publish(string yaml, string version, string? previous)
    {
        var dir = Path.Combine(_volume, "..2026_12_02_10_00_00." + version);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.yaml"), yaml);
        var tmp = Path.Combine(_volume, "..data_tmp");
        File.CreateSymbolicLink(tmp, Path.GetFileName(dir));
        Assert.Equal(0, Posix.Rename(tmp, Path.Combine(_volume, "..data"))); // atomic, as the kubelet does
        if (previous is not null)
        {
            Directory.Delete(Path.Combine(_volume, "..2026_12_02_10_00_00." + previous), recursive: true);
        }
    }

    [Fact]
    public async Task Reload_ConfigMapSymlinkSwap_NewConfigurationServes()
    {
        await using var a = TcpUpstream.Named("a");
        await using var b = TcpUpstream.Named("b");
        Publish(Config(a.Address), "1", null);
        var configPath = Path.Combine(_volume, "config.yaml");
        File.CreateSymbolicLink(configPath, Path.Combine("..data", "config.yaml"));
        var log = new StringWriter();
        await using var host = await ProxyHost.StartAsync(configPath, null, new Logger(TextWriter.Synchronized(log), LogLevel.Debug), watchFile: true);
        var port = host.Runtime.BoundAddresses["tcp"].Port;
        using (var before = await TcpClientHelpers.ConnectAsync(host.Runtime.BoundAddresses["tcp"]))
        {
            Assert.Equal("a", await before.ReadLineAsync());
        }

        Publish(Config(b.Address, port), "2", "1");

        Assert.True(
            await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(host.Runtime.Current?.Generation == 2), TimeSpan.FromSeconds(10)),
            "no reload after the ConfigMap update:\n" + log);
        using var after = await TcpClientHelpers.ConnectAsync(host.Runtime.BoundAddresses["tcp"]);
        Assert.Equal("b", await after.ReadLineAsync());
        Assert.Contains("config reloaded", log.ToString());
    }

    [Fact]
    public async Task Reload_OtherFileInTheDirectoryKeepsChanging_ConfigChangeStillNoticed()
    {
        // The directory is watched; a file written beside the config (an access log, say) must not
        // keep pushing the debounce back so that the config's own change is never read.
        await using var a = TcpUpstream.Named("a");
        await using var b = TcpUpstream.Named("b");
        await using var proxy = await RunningProxy.StartAsync(Config(a.Address), watchFile: true);
        var port = proxy.Listener("tcp").Port;
        using var stop = new CancellationTokenSource();
        var noise = Task.Run(async () =>
        {
            var other = Path.Combine(Path.GetDirectoryName(proxy.ConfigPath)!, "access.log");
            while (!stop.IsCancellationRequested)
            {
                await File.AppendAllTextAsync(other, "a line\n");
                await Task.Delay(20);
            }
        });

        await proxy.RewriteConfig(Config(b.Address, port));

        var reloaded = await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.Current?.Generation == 2), TimeSpan.FromSeconds(5));
        stop.Cancel();
        await noise;
        Assert.True(reloaded, "the config change was not noticed while another file kept changing");
    }
}
