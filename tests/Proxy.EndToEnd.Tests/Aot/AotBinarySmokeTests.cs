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
            await WaitReadyAsync(admin);

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

    [SkippableFact]
    public async Task Binary_OutOfFileDescriptors_AcceptLoopBacksOffCountsAndRecovers()
    {
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY");
        Skip.If(string.IsNullOrEmpty(binary), "PROXY_BINARY not set: run the README test command to publish the AOT binary first");

        await using var echo = TcpUpstream.Echo();
        var listenPort = TcpClientHelpers.UnusedPort();
        var adminPort = TcpClientHelpers.UnusedPort();
        var folder = Directory.CreateTempSubdirectory("proxy-emfile-").FullName;
        var config = Path.Combine(folder, "proxy.yaml");
        await File.WriteAllTextAsync(config, $$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            drain_timeout: 1s
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: / }, cluster: echo } ]
            clusters:
              - { name: echo, endpoints: [ {{echo.Address}} ] }
            """);

        // A tiny descriptor limit that idle connections exhaust. The listener speaks HTTP so that an
        // accepted connection holds exactly one descriptor while it waits for a request: with a TCP
        // listener each accept is followed by an upstream connect, and whether accept() or socket()
        // meets EMFILE first would depend on the parity of the process's baseline descriptor count.
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"ulimit -n 64 && exec \"{binary}\" run --config \"{config}\""])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        _ = process.StandardError.ReadToEndAsync();
        var clients = new List<System.Net.Sockets.Socket>();
        try
        {
            using var admin = new AdminClient(new IPEndPoint(IPAddress.Loopback, adminPort));
            await WaitReadyAsync(admin);

            // Connects succeed at the kernel (backlog) even when accept() fails with EMFILE.
            for (var i = 0; i < 100; i++)
            {
                clients.Add(await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort)));
            }

            // Give the accept loop time to hit the limit (the admin server cannot accept either
            // meanwhile), then free the descriptors.
            await Task.Delay(TimeSpan.FromSeconds(2));
            foreach (var client in clients)
            {
                client.Dispose();
            }

            clients.Clear();
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            {
                var body = await QuietGetAsync(admin, "/metrics");
                return body is not null && Support.PrometheusText.Parse(body).Value("proxy_listener_accept_errors_total{listener=\"web\"}") > 0;
            }, TimeSpan.FromSeconds(20)), "no accept error was counted");

            // Once descriptors are free again, the same listener serves.
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            {
                try
                {
                    // A request without Host is answered 400 by the proxy itself: proof that a new
                    // connection is accepted and parsed, without depending on the upstream.
                    using var client = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));
                    await client.SendAsync("GET / HTTP/1.1\r\n\r\n");
                    return (await client.ReadLineAsync(TimeSpan.FromSeconds(3))).StartsWith("HTTP/1.1 400", StringComparison.Ordinal);
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException or EndOfStreamException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30)), "the listener did not recover");
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            if (!process.HasExited)
            {
                process.Kill();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Waits until the binary's /ready answers 200.</summary>
    private static async Task WaitReadyAsync(AdminClient admin) =>
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await QuietGetAsync(admin, "/ready") is not null), "the binary never became ready");

    private static async Task<string?> QuietGetAsync(AdminClient admin, string path)
    {
        try
        {
            var (status, body) = await admin.GetAsync(path);
            return status == 200 ? body : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null; // the admin server also waits for a descriptor while they are exhausted
        }
    }

    [SkippableFact]
    public async Task Binary_ExitWhenAppGone_ExitsZeroOnceTheAppStopsListening()
    {
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY");
        Skip.If(string.IsNullOrEmpty(binary), "PROXY_BINARY not set: run the README test command to publish the AOT binary first");

        // The "application": a listener the test closes when the job is done.
        var app = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        app.Start();
        var appPort = ((IPEndPoint)app.LocalEndpoint).Port;
        var adminPort = TcpClientHelpers.UnusedPort();
        var folder = Directory.CreateTempSubdirectory("proxy-appgone-").FullName;
        var config = Path.Combine(folder, "proxy.yaml");
        await File.WriteAllTextAsync(config, $$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            drain_timeout: 1s
            listeners:
              - { name: tcp, address: 127.0.0.1:0, protocol: tcp, cluster: app }
            clusters:
              - { name: app, endpoints: [ 127.0.0.1:{{appPort}} ] }
            """);
        using var process = Process.Start(new ProcessStartInfo(binary!, ["run", "--config", config, "--exit-when-app-gone", $"127.0.0.1:{appPort}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var admin = new AdminClient(new IPEndPoint(IPAddress.Loopback, adminPort));
            await WaitReadyAsync(admin);
            await Task.Delay(1500); // the watcher sees the app up
            Assert.False(process.HasExited);

            app.Stop();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), "the sidecar outlived its application");
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("application gone", await stderr);
        }
        finally
        {
            app.Stop();
            if (!process.HasExited)
            {
                process.Kill();
            }

            Directory.Delete(folder, recursive: true);
        }
    }
}
