using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>File reloads beside a management server: its clusters survive them, and neither side may take the other's names.</summary>
public class XdsReloadTests
{
    private static string Config(ScriptedAdsServer server, string extraClusters = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes: [ { match: { path_prefix: / }, cluster: backend } ]
        {{extraClusters}}
        xds:
          server: {{server.Address}}
          node: { id: reload-node }
        """;

    [Fact]
    public async Task FileReload_KeepsTheServersClusters_AndNamesCannotClash()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendClustersAsync("v1", XdsResources.StaticCluster("backend", a.Address));
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal("hello from a", await client.GetStringAsync($"http://{proxy.Listener("web")}/hello"));

        // A reload of the file (a new cluster of its own) keeps the server's "backend".
        await proxy.RewriteConfig(Config(server, $"clusters: [ {{ name: spare, endpoints: [ {b.Address} ] }} ]"));
        Assert.True(await proxy.Host.ReloadAsync());
        Assert.Equal("hello from a", await client.GetStringAsync($"http://{proxy.Listener("web")}/hello"));
        Assert.True(proxy.Host.Runtime.Current!.Clusters.ContainsKey("spare"));

        // The server may not replace a file's cluster: NACK, naming it.
        await session.SendClustersAsync("v2", XdsResources.StaticCluster("backend", a.Address), XdsResources.StaticCluster("spare", a.Address));
        var nack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal("v1", nack.VersionInfo);
        Assert.Equal("cluster 'spare' is defined in the configuration file, and a management server cannot replace a file's cluster; rename one of them", nack.ErrorDetail.Message);

        // Nor may a reload take a name the server holds: refused, the running configuration stays.
        await proxy.RewriteConfig(Config(server, $"clusters: [ {{ name: backend, endpoints: [ {b.Address} ] }} ]"));
        Assert.False(await proxy.Host.ReloadAsync());
        Assert.True(await proxy.LoggedAsync("cluster 'backend' is defined in the configuration file"));
        Assert.Equal("hello from a", await client.GetStringAsync($"http://{proxy.Listener("web")}/hello"));
    }
}
