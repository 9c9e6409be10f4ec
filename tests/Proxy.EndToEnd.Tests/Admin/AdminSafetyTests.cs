using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Host.Admin;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.EndToEnd.Tests.Admin;

/// <summary>
/// Safe admin defaults: POST endpoints only for clients on this host unless allowed, a warning for
/// a non-loopback admin address, and a stats-only listener that serves metrics and nothing else.
/// </summary>
public class AdminSafetyTests
{
    /// <summary>A non-loopback IPv4 address of this host: connections to it stay on the host but do not come from loopback.</summary>
    private static IPAddress? HostAddress()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                {
                    return unicast.Address;
                }
            }
        }

        return null;
    }

    private static string Config(string admin, string extra = "") => $$"""
        admin: { address: {{admin}}{{extra}} }
        listeners:
          - { name: tcp, address: 127.0.0.1:0, protocol: tcp, cluster: backend }
        clusters:
          - { name: backend, endpoints: [ 127.0.0.1:9 ] }
        """;

    [Fact]
    public async Task Routes_PostFromNonLoopbackClient_Forbidden()
    {
        var metrics = new MetricsRegistry();
        var log = new Logger(TextWriter.Null);
        await using var runtime = new ProxyRuntime(new ProxyMetrics(metrics), log);
        var drained = false;
        var routes = new AdminRoutes(runtime, metrics, log, () => { drained = true; return Task.CompletedTask; });

        var remote = await routes.HandleAsync(AdminRequest.From("POST", "/drain", IPAddress.Parse("10.1.2.3")));
        Assert.Equal(403, remote.Status);
        Assert.Contains("admin.allow_remote_control", remote.Body);
        Assert.False(drained);

        Assert.Equal(403, (await routes.HandleAsync(AdminRequest.From("POST", "/logging?level=debug", IPAddress.Parse("2001:db8::1")))).Status);
        Assert.Equal(200, (await routes.HandleAsync(AdminRequest.From("GET", "/logging", IPAddress.Parse("10.1.2.3")))).Status);

        var local = await routes.HandleAsync(AdminRequest.From("POST", "/drain", IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.Equal(202, local.Status);
        Assert.True(drained);
    }

    [SkippableFact]
    public async Task Admin_NonLoopbackAddress_PostRefusedGetAnsweredAndWarningLogged()
    {
        var address = HostAddress();
        Skip.If(address is null, "this host has no non-loopback IPv4 address");
        await using var proxy = await RunningProxy.StartAsync(Config($"{address}:0"));

        Assert.True(await proxy.LoggedAsync("the admin server is bound to a non-loopback address"), proxy.Log.ToString());
        var (status, body) = await proxy.Admin.PostAsync("/drain");
        Assert.Equal(403, status);
        Assert.Contains("only for clients on this host", body);
        Assert.Equal(403, (await proxy.Admin.PostAsync("/shutdown")).Status);
        Assert.Equal(403, (await proxy.Admin.PostAsync("/logging?level=debug")).Status);
        Assert.Equal((200, "ready\n"), await proxy.Admin.GetAsync("/ready"));
        Assert.False(proxy.Host.Runtime.IsDraining);
    }

    [SkippableFact]
    public async Task Admin_AllowRemoteControl_PostFromNonLoopbackAnswered()
    {
        var address = HostAddress();
        Skip.If(address is null, "this host has no non-loopback IPv4 address");
        await using var proxy = await RunningProxy.StartAsync(Config($"{address}:0", ", allow_remote_control: true"));

        Assert.Equal(202, (await proxy.Admin.PostAsync("/drain")).Status);
        Assert.True(proxy.Host.Runtime.IsDraining);
    }

    [Fact]
    public async Task Admin_LoopbackAddress_NoWarning()
    {
        // The stats listener starts after the admin check, so once its line is in the log the warning would be too.
        await using var proxy = await RunningProxy.StartAsync("stats: { address: 127.0.0.1:0 }\n" + Config("127.0.0.1:0"));

        Assert.True(await proxy.LoggedAsync("stats listening"), proxy.Log.ToString());
        Assert.DoesNotContain("non-loopback", proxy.Log.ToString());
    }

    [Fact]
    public async Task StatsListener_ServesMetricsOnly()
    {
        await using var proxy = await RunningProxy.StartAsync("stats: { address: 127.0.0.1:0 }\n" + Config("127.0.0.1:0"));
        var stats = proxy.Host.StatsAddress;
        Assert.NotNull(stats);
        Assert.NotEqual(proxy.Host.AdminAddress, stats);
        using var client = new AdminClient(stats!);

        var (status, metrics) = await client.GetAsync("/metrics");
        Assert.Equal(200, status);
        Assert.Contains("proxy_listener_connections_active{listener=\"tcp\"}", metrics);
        Assert.Contains("proxy_listener_connections_active{listener=\"tcp\"}", (await client.GetAsync("/stats/prometheus")).Body);

        foreach (var path in new[] { "/config", "/config_dump", "/clusters", "/certs", "/ready", "/server_info", "/logging" })
        {
            Assert.Equal(404, (await client.GetAsync(path)).Status);
        }

        Assert.Equal(404, (await client.PostAsync("/drain")).Status);
        Assert.Equal(404, (await client.PostAsync("/shutdown")).Status);
        Assert.Equal(405, (await client.PostAsync("/metrics")).Status);
        Assert.False(proxy.Host.Runtime.IsDraining);
        Assert.True(await proxy.LoggedAsync("stats listening"), proxy.Log.ToString());
    }
}
