using System.Text.Json.Nodes;
using Envoy.Config.Cluster.V3;
using Google.Protobuf;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary driven by the second, independent management server (grpc-node, tests/node/ads-server.js),
/// in both protocol variants, through the scenarios the C# server's binary tests run: the endpoints move and traffic
/// follows; a bad resource is NACKed and the server sees the error_detail; the server is killed and restarted while
/// a client keeps sending requests: nothing fails, and the proxy resyncs on the new stream.
/// </summary>
public class XdsNodeServerBinaryTests
{
    private static (string, string, IMessage) R(string name, string version, IMessage resource) => (name, version, resource);

    private static string[] Names(JsonObject request, string key) => request[key] is JsonArray names ? [.. names.Select(static n => (string)n!)] : [];

    [SkippableTheory]
    [InlineData("state_of_the_world")]
    [InlineData("delta")]
    public async Task NodeServer_EndpointsMove_NackIsSeen_KilledAndRestarted_TrafficKeepsFlowingAndResyncs(string api)
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        var missing = NodeAdsServer.Missing(out _, out _);
        Skip.If(missing is not null, missing);
        var delta = api == "delta";
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await NodeAdsServer.StartAsync();
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
              api: {{api}}
              node: { id: node-driven, cluster: edge }
            """, adminPort);
        using var client = new HttpClient();
        async Task<string> Get()
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{listenPort}/hello");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }

        Assert.Equal(delta ? "delta" : "sotw", await server.NextStreamAsync());
        var first = await server.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal("node-driven", (string?)first["node"]?["id"]);
        await server.SendAsync(XdsTypeUrls.Cluster, "c1", [R("backend", "c1", XdsResources.EdsCluster("backend"))]);
        var eds = await server.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.Equal(["backend"], Names(eds, delta ? "resource_names_subscribe" : "resource_names"));

        // The endpoints move: traffic follows.
        await server.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "e1", [R("backend", "e1", XdsResources.Assignment("backend", a.Address))]);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 hello from a"));
        await server.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "e2", [R("backend", "e2", XdsResources.Assignment("backend", b.Address))]);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 hello from b"));

        // A bad cluster: the server sees the NACK with its nonce and the sentence; the last good version serves on.
        var bad = XdsResources.EdsCluster("backend");
        bad.LbPolicy = Cluster.Types.LbPolicy.ClusterProvided;
        var nonce = await server.SendAsync(XdsTypeUrls.Cluster, "c2", [R("backend", "c2", bad)]);
        JsonObject nack;
        do
        {
            nack = await server.NextRequestAsync(XdsTypeUrls.Cluster);
        }
        while ((string?)nack["response_nonce"] != nonce);
        Assert.Contains("cluster 'backend': lb_policy:", (string?)nack["error_detail"]?["message"]);
        Assert.Equal(3, (int?)nack["error_detail"]?["code"]);
        if (!delta)
        {
            Assert.Equal("c1", (string?)nack["version_info"]); // the last good version
        }

        Assert.Equal("200 hello from b", await Get());

        // Killed and restarted while a client keeps sending requests: none fails, and the proxy resyncs.
        await using (var load = new RequestLoop($"http://127.0.0.1:{listenPort}/hello"))
        {
            await server.KillAsync();
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await proxy.MetricAsync("proxy_xds_connected") == 0));
            await server.RestartAsync();
            Assert.Equal(delta ? "delta" : "sotw", await server.NextStreamAsync(TimeSpan.FromSeconds(40)));
            var restated = await server.NextRequestAsync(XdsTypeUrls.Cluster);
            Assert.Equal("node-driven", (string?)restated["node"]?["id"]);
            if (delta)
            {
                Assert.Equal("c1", (string?)restated["initial_resource_versions"]?["backend"]);
            }
            else
            {
                Assert.Equal("c1", (string?)restated["version_info"]);
            }

            var edsAgain = await server.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
            Assert.Equal(["backend"], Names(edsAgain, delta ? "resource_names_subscribe" : "resource_names"));
            await server.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "e3", [R("backend", "e3", XdsResources.Assignment("backend", a.Address))]);
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 hello from a"));
            Assert.Null(load.FirstFailure);
            Assert.True(load.Count > 0);
        }
    }
}
