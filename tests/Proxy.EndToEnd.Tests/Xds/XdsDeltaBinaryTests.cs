using Google.Protobuf;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary on the incremental protocol (<c>xds.api: delta</c>), driven by the scripted C# server, while
/// a client keeps sending requests: the server moves the endpoints of one cluster and removes another with
/// removed_resources; no request to the cluster that stays fails.
/// </summary>
public class XdsDeltaBinaryTests
{
    private static (string, string, IMessage) R(string name, string version, IMessage resource) => (name, version, resource);

    [SkippableFact]
    public async Task DeltaServer_MovesEndpointsAndRemovesACluster_WhileAClientSendsRequests()
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
                  - match: { path_prefix: /old }
                    cluster: old
                    prefix_rewrite: /hello
                  - match: { path_prefix: / }
                    cluster: backend
            xds:
              server: {{server.Address}}
              api: delta
              node: { id: delta-binary, cluster: edge }
            """, adminPort);
        using var client = new HttpClient();
        async Task<string> Get(string path)
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{listenPort}{path}");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }

        var session = await server.NextDeltaSessionAsync();
        Assert.Equal("delta-binary", (await session.NextRequestAsync()).Node.Id);
        await session.SendAsync(XdsTypeUrls.Cluster, "s1", [R("backend", "c1", XdsResources.EdsCluster("backend")), R("old", "c1", XdsResources.StaticCluster("old", a.Address))]);
        Assert.Equal(["backend"], (await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment)).ResourceNamesSubscribe);
        await session.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s2", [R("backend", "e1", XdsResources.Assignment("backend", a.Address))]);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get("/hello") == "200 hello from a"));
        Assert.Equal("200 hello from a", await Get("/old"));

        await using (var load = new RequestLoop($"http://127.0.0.1:{listenPort}/hello"))
        {
            // The endpoints move to b (both for a moment, then b alone): traffic follows.
            await session.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s3", [R("backend", "e2", XdsResources.Assignment("backend", a.Address, b.Address))]);
            await session.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s4", [R("backend", "e3", XdsResources.Assignment("backend", b.Address))]);
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get("/hello") == "200 hello from b"));

            // The server removes "old": its route answers 503, "backend" is untouched.
            await session.SendAsync(XdsTypeUrls.Cluster, "s5", [], "old");
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () => (await Get("/old")).StartsWith("503", StringComparison.Ordinal)));
            var before = load.Count;
            Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(load.Count > before + 20)));
            Assert.Null(load.FirstFailure);
        }

        Assert.Equal("200 hello from b", await Get("/hello"));
        Assert.Equal(3, await proxy.MetricAsync("proxy_xds_updates_total{type=\"eds\",result=\"accepted\"}"));
        Assert.Equal(2, await proxy.MetricAsync("proxy_xds_updates_total{type=\"cds\",result=\"accepted\"}"));
    }
}
