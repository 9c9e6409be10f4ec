using Envoy.Config.Cluster.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The ADS client against a management server scripted here (Grpc.AspNetCore): the rules of Envoy's xds_protocol for
/// the state-of-the-world variant, and what the proxy serves meanwhile. The proxy runs in-process with a static
/// listener whose route names cluster <c>backend</c>, which only the server defines (mixed mode).
/// </summary>
public class XdsProtocolTests
{
    private static string Config(ScriptedAdsServer server) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - match: { path_prefix: / }
                cluster: backend
        xds:
          server: {{server.Address}}
          node:
            id: test-node
            cluster: test-cluster
            metadata: { team: edge }
            locality: { region: r1, zone: z1 }
        """;

    private static async Task<string> GetAsync(RunningProxy proxy, HttpClient client)
    {
        using var response = await client.GetAsync($"http://{proxy.Listener("web")}/hello");
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    [Fact]
    public async Task FirstRequest_CarriesNode_AckEchoesVersionAndNonce_EdsFollowsClusters()
    {
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        var session = await server.NextSessionAsync();

        var first = await session.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.Cluster, first.TypeUrl);
        Assert.Equal("test-node", first.Node.Id);
        Assert.Equal("test-cluster", first.Node.Cluster);
        Assert.Equal("edge", first.Node.Metadata.Fields["team"].StringValue);
        Assert.Equal("z1", first.Node.Locality.Zone);
        Assert.Empty(first.ResourceNames); // wildcard
        Assert.Equal("", first.VersionInfo);
        Assert.Equal("", first.ResponseNonce);

        var nonce = await session.SendClustersAsync("v1", XdsResources.EdsCluster("backend"));
        var ack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Null(ack.Node); // node on the first request only
        Assert.Equal("v1", ack.VersionInfo);
        Assert.Equal(nonce, ack.ResponseNonce);
        Assert.Null(ack.ErrorDetail);

        var eds = await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.Null(eds.Node);
        Assert.Equal(["backend"], eds.ResourceNames);

        var edsNonce = await session.SendEndpointsAsync("e1", XdsResources.Assignment("backend", "127.0.0.1:1"));
        var edsAck = await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.Equal("e1", edsAck.VersionInfo);
        Assert.Equal(edsNonce, edsAck.ResponseNonce);
        Assert.Equal(["backend"], edsAck.ResourceNames);

        // Two responses back to back: each ACK echoes its own response, the last one the newest nonce.
        var n2 = await session.SendClustersAsync("v2", XdsResources.EdsCluster("backend"));
        var n3 = await session.SendClustersAsync("v3", XdsResources.EdsCluster("backend"));
        var ack2 = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        var ack3 = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal(("v2", n2), (ack2.VersionInfo, ack2.ResponseNonce));
        Assert.Equal(("v3", n3), (ack3.VersionInfo, ack3.ResponseNonce));
    }

    [Fact]
    public async Task Nack_CarriesTheError_AndKeepsTheLastGoodVersionServing()
    {
        await using var upstream = await KestrelUpstream.StartAsync("a");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendClustersAsync("v1", XdsResources.StaticCluster("backend", upstream.Address));
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal("200 hello from a", await GetAsync(proxy, client));

        var bad = XdsResources.StaticCluster("backend", "127.0.0.1:1");
        bad.LbPolicy = Cluster.Types.LbPolicy.ClusterProvided;
        var nonce = await session.SendClustersAsync("v2", bad);
        var nack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal("v1", nack.VersionInfo); // the last good version
        Assert.Equal(nonce, nack.ResponseNonce);
        Assert.NotNull(nack.ErrorDetail);
        Assert.Contains("cluster 'backend': lb_policy:", nack.ErrorDetail.Message);
        Assert.Equal(3, nack.ErrorDetail.Code); // INVALID_ARGUMENT

        Assert.Equal("200 hello from a", await GetAsync(proxy, client));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_xds_updates_total{type=\"cds\",result=\"rejected\"}"));
        Assert.Equal(1, metrics.Value("proxy_xds_updates_total{type=\"cds\",result=\"accepted\"}"));
        Assert.Equal(1, metrics.Value("proxy_xds_connected"));

        // A cluster named like one of the file's is refused in a sentence, too.
        var dump = await proxy.Admin.GetAsync("/config_dump");
        Assert.Contains("\"dynamic_active_clusters\"", dump.Body);
        Assert.Contains("\"version_info\": \"v1\"", dump.Body);

        // Resources in proto field names, as Envoy's dump writes them (istioctl and other readers expect them).
        Assert.Contains("\"load_assignment\"", dump.Body);
        Assert.Contains("\"socket_address\"", dump.Body);
        Assert.DoesNotContain("\"loadAssignment\"", dump.Body);
    }

    [Fact]
    public async Task UndecodableResource_IsNackedOnTheSameStream_NotAStreamFailure()
    {
        await using var upstream = await KestrelUpstream.StartAsync("a");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendClustersAsync("v1", XdsResources.StaticCluster("backend", upstream.Address));
        await session.NextRequestAsync(XdsTypeUrls.Cluster);

        // A cluster whose circuit breaker threshold (a UInt32Value) claims more bytes than follow: the shape the
        // xds-translation fuzz target found, on which Google.Protobuf throws InvalidOperationException. Before, that
        // ended the stream, the server resent the same bytes on the next one, and no NACK ever said why.
        var truncated = Google.Protobuf.ByteString.CopyFrom([0x0a, 0x01, 0x63, 0x52, 0x30, 0x0a, 0x0c, 0x12, 0x30]);
        var nonce = await session.SendPackedAsync(XdsTypeUrls.Cluster, "v2", new Google.Protobuf.WellKnownTypes.Any { TypeUrl = XdsTypeUrls.Cluster, Value = truncated });
        var nack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal(("v1", nonce), (nack.VersionInfo, nack.ResponseNonce));
        Assert.Equal("resource 0 of the type.googleapis.com/envoy.config.cluster.v3.Cluster response cannot be decoded as envoy.config.cluster.v3.Cluster (a field inside it is cut short); check that the server sends Envoy v3 resources", nack.ErrorDetail.Message);

        Assert.Equal("200 hello from a", await GetAsync(proxy, client));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_xds_stream_failures_total"));
        Assert.Equal(1, metrics.Value("proxy_xds_updates_total{type=\"cds\",result=\"rejected\"}"));
    }

    [Fact]
    public async Task EndpointsMove_TrafficFollows_AndAClusterLeftOutIsDeleted()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();

        // Before the server answers, the file's listener serves already: 503 for the cluster still missing.
        Assert.StartsWith("503", await GetAsync(proxy, client));

        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendClustersAsync("v1", XdsResources.EdsCluster("backend", "backend-svc"), XdsResources.EdsCluster("other"));
        var eds = await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.Equal(["backend-svc", "other"], eds.ResourceNames);
        await session.SendEndpointsAsync("e1", XdsResources.Assignment("backend-svc", a.Address));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(proxy, client) == "200 hello from a"));

        var generation = proxy.Host.Runtime.Current!.Generation;
        var listener = proxy.Host.Runtime.Current.Listeners["web"];
        await session.SendEndpointsAsync("e2", XdsResources.Assignment("backend-svc", b.Address));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(proxy, client) == "200 hello from b"));
        Assert.True(proxy.Host.Runtime.Current!.Generation > generation);

        // An endpoint change of "other" recompiles neither "backend" nor the listener that routes to it.
        var backend = proxy.Host.Runtime.Current.Clusters["backend"];
        listener = proxy.Host.Runtime.Current.Listeners["web"];
        await session.SendEndpointsAsync("e3", XdsResources.Assignment("backend-svc", b.Address), XdsResources.Assignment("other", a.Address));
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.Current!.Clusters["other"].Endpoints.Count == 1)));
        Assert.Same(backend, proxy.Host.Runtime.Current!.Clusters["backend"]);
        Assert.Same(listener, proxy.Host.Runtime.Current.Listeners["web"]);

        // State of the world: a CDS response without "other" deletes it, and EDS stops asking for it.
        await session.SendClustersAsync("v2", XdsResources.EdsCluster("backend", "backend-svc"));
        var narrowed = await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        while (narrowed.ResourceNames.Count != 1)
        {
            narrowed = await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        }

        Assert.Equal(["backend-svc"], narrowed.ResourceNames);
        Assert.False(proxy.Host.Runtime.Current!.Clusters.ContainsKey("other"));
        Assert.Equal("200 hello from b", await GetAsync(proxy, client)); // EDS data outlives a CDS update
    }

    [Fact]
    public async Task ServerDeath_KeepsLastGoodConfig_ReconnectResendsNodeAndVersions()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendClustersAsync("v1", XdsResources.EdsCluster("backend"));
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        await session.SendEndpointsAsync("e1", XdsResources.Assignment("backend", a.Address));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(proxy, client) == "200 hello from a"));

        await server.StopAsync();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => (await proxy.Admin.MetricsAsync()).Value("proxy_xds_connected") == 0));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("200 hello from a", await GetAsync(proxy, client));
        }

        await server.RestartAsync();
        var again = await server.NextSessionAsync(TimeSpan.FromSeconds(40));
        var first = await again.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.Cluster, first.TypeUrl);
        Assert.Equal("test-node", first.Node.Id); // a new stream's first request carries the node again
        Assert.Equal("v1", first.VersionInfo);    // and says what the proxy holds
        Assert.Equal("", first.ResponseNonce);
        var eds = await again.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.ClusterLoadAssignment, eds.TypeUrl);
        Assert.Null(eds.Node);
        Assert.Equal("e1", eds.VersionInfo);
        Assert.Equal(["backend"], eds.ResourceNames);
        Assert.Equal("200 hello from a", await GetAsync(proxy, client));
    }

    [Fact]
    public async Task StreamsThatEndWithoutAResponse_AreRetriedAfterAGrowingJitteredBackoff()
    {
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        for (var i = 0; i < 4; i++)
        {
            var session = await server.NextSessionAsync(TimeSpan.FromSeconds(20));
            await session.NextRequestAsync();
            session.End();
        }

        List<DateTime> starts;
        lock (server.StreamStarts)
        {
            starts = [.. server.StreamStarts];
        }

        // Waits are drawn from [ceiling/2, ceiling], the ceiling doubling from 0.5 s: at least 0.25 s, 0.5 s, 1 s.
        var gaps = starts.Zip(starts.Skip(1), static (x, y) => (y - x).TotalSeconds).ToArray();
        Assert.True(gaps[0] >= 0.2, $"gaps: {string.Join(", ", gaps)}");
        Assert.True(gaps[1] >= 0.45, $"gaps: {string.Join(", ", gaps)}");
        Assert.True(gaps[2] >= 0.95, $"gaps: {string.Join(", ", gaps)}");
        Assert.True(gaps[2] > gaps[0], $"gaps: {string.Join(", ", gaps)}");
        Assert.True((await proxy.Admin.MetricsAsync()).Value("proxy_xds_stream_failures_total") >= 3);
    }

    [Fact]
    public async Task ServerNotThere_ConnectAttemptsBackOff_AndTheLogSaysWhy()
    {
        var port = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            xds: { server: 127.0.0.1:{{port}}, node: { id: lonely } }
            """);
        int[] waits = [];
        Assert.True(await TcpClientHelpers.EventuallyAsync(() =>
        {
            waits = System.Text.RegularExpressions.Regex.Matches(proxy.Log.ToString(), "retry_in_ms=([0-9]+)").Select(m => int.Parse(m.Groups[1].Value)).ToArray();
            return Task.FromResult(waits.Length >= 3);
        }, TimeSpan.FromSeconds(15)));

        // A refused connect is a failure like any other: the ceiling doubles (0.5 s, 1 s, 2 s), the wait is in its upper half.
        Assert.InRange(waits[0], 250, 500);
        Assert.InRange(waits[1], 500, 1000);
        Assert.InRange(waits[2], 1000, 2000);
        Assert.Contains("Connection refused", proxy.Log.ToString());
        Assert.DoesNotContain("Exception", proxy.Log.ToString());
    }
}
