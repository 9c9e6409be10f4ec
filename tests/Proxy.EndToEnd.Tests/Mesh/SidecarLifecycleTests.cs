using System.Net;
using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Host.Cli;

namespace Proxy.EndToEnd.Tests.Mesh;

/// <summary>The sidecar lifecycle commands: wait-ready before the app starts, POST /shutdown when it is done.</summary>
public sealed class SidecarLifecycleTests
{
    private const string Config = """
        admin: { address: 127.0.0.1:0 }
        listeners: []
        clusters: []
        """;

    [Fact]
    public async Task WaitReady_RunningProxy_ExitsZero()
    {
        await using var proxy = await RunningProxy.StartAsync(Config);
        var stdout = new StringWriter();
        var code = await CommandLine.RunAsync(["wait-ready", "--admin", proxy.Host.AdminAddress.ToString(), "--timeout", "5s"], stdout, new StringWriter());
        Assert.Equal(0, code);
        Assert.Contains("is ready", stdout.ToString());
    }

    [Fact]
    public async Task WaitReady_NothingListening_ExitsOneAfterTimeout()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var stderr = new StringWriter();
        var code = await CommandLine.RunAsync(["wait-ready", "--admin", $"127.0.0.1:{port}", "--timeout", "600ms"], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("not ready", stderr.ToString());
    }

    [Fact]
    public async Task WaitReady_BadOption_ExitsTwo() =>
        Assert.Equal(2, await CommandLine.RunAsync(["wait-ready", "--timeout", "soon"], new StringWriter(), new StringWriter()));

    [Fact]
    public async Task Shutdown_Post_AnswersThenDrainsAndCompletes()
    {
        await using var proxy = await RunningProxy.StartAsync(Config);
        var (status, body) = await proxy.Admin.PostAsync("/shutdown");
        Assert.Equal(202, status);
        Assert.Contains("shutting down", body);
        var finished = await Task.WhenAny(proxy.Host.ShutdownCompleted, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(proxy.Host.ShutdownCompleted, finished);
        Assert.False(proxy.Host.Runtime.IsReady);
    }

    [Fact]
    public async Task Shutdown_Get_MethodNotAllowed()
    {
        await using var proxy = await RunningProxy.StartAsync(Config);
        var (status, _) = await proxy.Admin.GetAsync("/shutdown");
        Assert.Equal(405, status);
    }

    [Fact]
    public async Task Reload_MeshSection_InboundTakesItOnlyAPortChangeWaitsForARestart()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-mesh-reload-").FullName;
        try
        {
            Assert.Equal(0, await CommandLine.RunAsync(["certs", "ca", "--out", Path.Combine(dir, "ca")], new StringWriter(), new StringWriter()));
            Assert.Equal(0, await CommandLine.RunAsync(["certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", "spiffe://t.local/ns/a/sa/b",
                "--out", Path.Combine(dir, "w")], new StringWriter(), new StringWriter()));
            int inbound = TcpClientHelpers.UnusedPort(), outbound = TcpClientHelpers.UnusedPort();
            string Mesh(string detect, int inboundPort, string mode = "strict") => $$"""
                admin: { address: 127.0.0.1:0 }
                listeners: []
                clusters: []
                mesh:
                  identity: { cert: {{dir}}/w/cert.pem, key: {{dir}}/w/key.pem, ca: {{dir}}/w/ca.pem }
                  detect_timeout: {{detect}}
                  inbound: { port: {{inboundPort}}, mode: {{mode}} }
                  outbound: { port: {{outbound}} }
                """;
            await using var proxy = await RunningProxy.StartAsync(Mesh("100ms", inbound));

            // Detection and mode are the inbound side's to take (InboundHandler.Update): no warning.
            await proxy.RewriteConfig(Mesh("300ms", inbound, "permissive"));
            Assert.True(await proxy.Host.ReloadAsync(), proxy.Log.ToString());
            Assert.DoesNotContain("until it restarts", proxy.Log.ToString());

            // A listener's port is bound once: said, not silently ignored.
            await proxy.RewriteConfig(Mesh("300ms", TcpClientHelpers.UnusedPort(), "permissive"));
            Assert.True(await proxy.Host.ReloadAsync(), proxy.Log.ToString());
            Assert.True(await proxy.LoggedAsync("this reload changes mesh.inbound.port, which the running sidecar keeps until it restarts"), proxy.Log.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
