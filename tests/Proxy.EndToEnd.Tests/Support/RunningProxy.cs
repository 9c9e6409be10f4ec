using System.Net;
using Proxy.Host;
using Proxy.Observability;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// A proxy host started in-process from a config file in a temporary folder; listeners and the
/// admin server bind port 0 so tests run side by side. Rewrite the file with <see cref="RewriteConfig"/>.
/// </summary>
public sealed class RunningProxy : IAsyncDisposable
{
    private readonly string _folder;

    private RunningProxy(string folder, string configPath, ProxyHost host, StringWriter log)
    {
        _folder = folder;
        ConfigPath = configPath;
        Host = host;
        Log = log;
        Admin = new AdminClient(host.AdminAddress);
    }

    public ProxyHost Host { get; }

    public string ConfigPath { get; }

    public AdminClient Admin { get; }

    /// <summary>What the proxy logged.</summary>
    public StringWriter Log { get; }

    /// <param name="time">Scripts the forwarders' timers (see <see cref="ScriptedTimers"/>); the system's when null.</param>
    public static async Task<RunningProxy> StartAsync(string yaml, bool watchFile = false, TimeProvider? time = null)
    {
        var folder = Directory.CreateTempSubdirectory("proxy-e2e-").FullName;
        var path = Path.Combine(folder, "proxy.yaml");
        await File.WriteAllTextAsync(path, yaml);
        var log = new StringWriter();
        var host = await ProxyHost.StartAsync(path, null, new Logger(TextWriter.Synchronized(log), LogLevel.Debug), watchFile, time);
        return new RunningProxy(folder, path, host, log);
    }

    /// <summary>Where listener <paramref name="name"/> is bound.</summary>
    public IPEndPoint Listener(string name) => Host.Runtime.BoundAddresses[name];

    /// <summary>
    /// True once the log holds <paramref name="text"/>. The logger writes from a background task,
    /// so a line logged during start-up may reach the sink a moment after <see cref="StartAsync"/> returns.
    /// </summary>
    public Task<bool> LoggedAsync(string text) =>
        TcpClientHelpers.EventuallyAsync(() => Task.FromResult(Log.ToString().Contains(text, StringComparison.Ordinal)));

    public Task RewriteConfig(string yaml) => File.WriteAllTextAsync(ConfigPath, yaml);

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }
}
