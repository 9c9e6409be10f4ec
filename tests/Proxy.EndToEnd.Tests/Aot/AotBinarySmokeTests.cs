using System.Diagnostics;
using System.Net;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Aot;

/// <summary>
/// The published native binary itself: starts, answers /ready, proxies a TCP round trip and exits 0
/// on SIGTERM. The test command publishes it and sets PROXY_BINARY; without that variable the test
/// is skipped (a plain <c>dotnet test</c> during development).
/// </summary>
public class AotBinarySmokeTests
{
    [SkippableFact]
    public async Task Binary_StartsProxiesAndDrainsOnSigterm()
    {
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY");
        Skip.If(string.IsNullOrEmpty(binary), "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        Assert.True(File.Exists(binary), $"PROXY_BINARY={binary} does not exist");

        await using var echo = TcpUpstream.Echo();
        var listenPort = TcpClientHelpers.UnusedPort();
        var adminPort = TcpClientHelpers.UnusedPort();
        var folder = Directory.CreateTempSubdirectory("proxy-aot-").FullName;
        var config = Path.Combine(folder, "proxy.yaml");
        await File.WriteAllTextAsync(config, $$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            drain_timeout: 2s
            log: { format: json }
            listeners:
              - { name: tcp, address: 127.0.0.1:{{listenPort}}, protocol: tcp, cluster: echo }
            clusters:
              - { name: echo, endpoints: [ {{echo.Address}} ] }
            """);

        using var process = Process.Start(new ProcessStartInfo(binary!, ["run", "--config", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var admin = new AdminClient(new IPEndPoint(IPAddress.Loopback, adminPort));
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            {
                try
                {
                    return (await admin.GetAsync("/ready")).Status == 200;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }), "the binary never became ready");

            using (var client = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort)))
            {
                await client.SendAsync("through the native binary\n");
                Assert.Equal("through the native binary", await client.ReadLineAsync());
            }

            var metrics = await admin.MetricsAsync();
            Assert.Equal(1, metrics.Value("proxy_listener_connections_opened_total{listener=\"tcp\"}"));

            Assert.Equal(0, Posix.Kill(process.Id, Posix.SIGTERM));
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(15)), "no exit after SIGTERM");
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("\"msg\":\"listener bound\"", await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            Directory.Delete(folder, recursive: true);
        }
    }
}
