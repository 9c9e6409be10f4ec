using System.Text.Json;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Admin;

/// <summary>The admin API over real HTTP.</summary>
public class AdminApiTests
{
    [Fact]
    public async Task Admin_ReadyMetricsConfigClusters_Answer()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - { name: tcp, address: 127.0.0.1:0, protocol: tcp, cluster: backend }
            clusters:
              - { name: backend, endpoints: [ {{echo.Address}} ] }
            """);

        Assert.Equal((200, "ready\n"), await proxy.Admin.GetAsync("/ready"));

        var (status, config) = await proxy.Admin.GetAsync("/config");
        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(config);
        Assert.Equal("backend", json.RootElement.GetProperty("clusters")[0].GetProperty("name").GetString());

        var (clustersStatus, clusters) = await proxy.Admin.GetAsync("/clusters");
        Assert.Equal(200, clustersStatus);
        Assert.Contains($"backend::{echo.Address}::healthy=true", clusters);

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_listener_connections_active{listener=\"tcp\"}"));
        Assert.True(metrics.Value("process_resident_memory_bytes") > 0);

        Assert.Equal(404, (await proxy.Admin.GetAsync("/nope")).Status);
        Assert.Equal(405, (await proxy.Admin.PostAsync("/metrics")).Status);
    }
}
