using System.Diagnostics;
using System.Net;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// The published native AOT binary (PROXY_BINARY) running a config on fixed loopback ports, for tests that need the
/// production process: its own heap (allocation counts no other test disturbs), its own scheduling settings.
/// </summary>
public sealed class BinaryProxy : IDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private BinaryProxy(Process process, string folder, AdminClient admin)
    {
        _process = process;
        _folder = folder;
        Admin = admin;
    }

    public AdminClient Admin { get; }

    /// <summary>The binary's path, or null when the README test command did not publish it.</summary>
    public static string? Path => Environment.GetEnvironmentVariable("PROXY_BINARY") is { Length: > 0 } path ? path : null;

    /// <summary>Starts the binary with <paramref name="yaml"/> (which must bind its admin to <paramref name="adminPort"/>) and waits for /ready.</summary>
    public static async Task<BinaryProxy> StartAsync(string yaml, int adminPort)
    {
        string folder = Directory.CreateTempSubdirectory("proxy-bin-").FullName;
        string config = System.IO.Path.Combine(folder, "proxy.yaml");
        await File.WriteAllTextAsync(config, yaml);
        var process = Process.Start(new ProcessStartInfo(Path!, ["run", "--config", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        _ = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var proxy = new BinaryProxy(process, folder, new AdminClient(new IPEndPoint(IPAddress.Loopback, adminPort)));
        bool ready = await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                return (await proxy.Admin.GetAsync("/ready")).Status == 200;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        });
        if (!ready)
        {
            proxy.Dispose();
            Assert.Fail("the binary never became ready");
        }

        return proxy;
    }

    /// <summary>The process id, for signals.</summary>
    public int ProcessId => _process.Id;

    /// <summary>True once the process has ended (crashed: nothing here stops it but <see cref="Dispose"/>).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>A gauge or counter from /metrics.</summary>
    public async Task<double> MetricAsync(string series) => (await Admin.MetricsAsync()).Value(series);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        Admin.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
