using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>The ways to reach a management server other than h2c on TCP.</summary>
public class XdsTransportTests
{
    [Fact]
    public async Task UnixSocketServer_IsReached_AndItsClustersServe()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        var folder = Directory.CreateTempSubdirectory("proxy-xds-uds-").FullName;
        var socket = Path.Combine(folder, "XDS");
        await using var server = await ScriptedAdsServer.StartUnixAsync(socket);
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes: [ { match: { path_prefix: / }, cluster: backend } ]
            xds:
              server: unix:{{socket}}
              node: { id: uds-node }
              resources: [ clusters ]
            """);
        var session = await server.NextSessionAsync();
        var first = await session.NextRequestAsync();
        Assert.Equal("uds-node", first.Node.Id);
        await session.SendClustersAsync("1", XdsResources.StaticCluster("backend", a.Address));
        var ack = await session.NextRequestAsync();
        Assert.Equal("1", ack.VersionInfo);

        using var client = new HttpClient();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await client.GetStringAsync($"http://{proxy.Listener("web")}/hello")) == "hello from a"));

        // resources: [clusters] takes no endpoints: nothing but the ACK went out, and an EDS cluster is refused.
        using var none = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await session.Requests.Reader.ReadAsync(none.Token));
        await session.SendClustersAsync("2", XdsResources.EdsCluster("backend"));
        var nack = await session.NextRequestAsync();
        Assert.Equal("1", nack.VersionInfo);
        Assert.StartsWith("cluster 'backend': type: an EDS cluster needs endpoints from the server", nack.ErrorDetail.Message);
        Assert.Equal("hello from a", await client.GetStringAsync($"http://{proxy.Listener("web")}/hello"));
    }
}
