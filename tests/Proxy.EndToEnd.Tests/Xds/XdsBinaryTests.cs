using System.Text.Json;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary driven by the scripted management server: a static listener routes to cluster
/// <c>backend</c>, which exists only through xDS. A real HTTP client, real upstreams; the server moves the endpoints
/// and traffic follows; the server dies and traffic keeps flowing on the last good configuration.
/// </summary>
public class XdsBinaryTests
{
    [SkippableFact]
    public async Task StaticListener_RoutesToAnXdsCluster_FollowsEndpointMoves_AndOutlivesTheServer()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes:
                  - match: { path_prefix: / }
                    cluster: backend
            xds:
              server: {{server.Address}}
              node: { id: binary-node, cluster: edge }
            """, adminPort);
        using var client = new HttpClient();
        async Task<string> Get()
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{listenPort}/hello");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }

        var session = await server.NextSessionAsync();
        var first = await session.NextRequestAsync();
        Assert.Equal("binary-node", first.Node.Id);
        await session.SendClustersAsync("c1", XdsResources.EdsCluster("backend"));
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        await session.SendEndpointsAsync("e1", XdsResources.Assignment("backend", a.Address));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 hello from a"));

        // The server moves the endpoints: traffic follows.
        await session.SendEndpointsAsync("e2", XdsResources.Assignment("backend", b.Address));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 hello from b"));

        // Envoy's config dump layout, from the AOT binary's protobuf JSON.
        var dump = JsonDocument.Parse((await proxy.Admin.GetAsync("/config_dump")).Body).RootElement;
        var clusters = dump.GetProperty("configs")[0];
        Assert.Equal("type.googleapis.com/envoy.admin.v3.ClustersConfigDump", clusters.GetProperty("@type").GetString());
        var active = clusters.GetProperty("dynamic_active_clusters")[0];
        Assert.Equal("c1", active.GetProperty("version_info").GetString());
        Assert.Equal("backend", active.GetProperty("cluster").GetProperty("name").GetString());
        Assert.Equal("EDS", active.GetProperty("cluster").GetProperty("type").GetString());
        Assert.Equal(XdsTypeUrls.Cluster, active.GetProperty("cluster").GetProperty("@type").GetString());
        Assert.True(active.TryGetProperty("last_updated", out _));
        Assert.Equal(1, await proxy.MetricAsync("proxy_xds_connected"));
        Assert.Equal(2, await proxy.MetricAsync("proxy_xds_updates_total{type=\"eds\",result=\"accepted\"}"));

        // The server dies: the last good configuration keeps serving.
        await server.StopAsync();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await proxy.MetricAsync("proxy_xds_connected") == 0));
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal("200 hello from b", await Get());
        }

        // It comes back: the proxy reconnects and takes a new push.
        await server.RestartAsync();
        var again = await server.NextSessionAsync(TimeSpan.FromSeconds(40));
        Assert.Equal("c1", (await again.NextRequestAsync()).VersionInfo);
        await again.SendEndpointsAsync("e3", XdsResources.Assignment("backend", a.Address));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 hello from a"));
    }
}
