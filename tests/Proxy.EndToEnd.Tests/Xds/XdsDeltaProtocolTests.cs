using System.Text.Json;
using Envoy.Config.Cluster.V3;
using Google.Protobuf;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The incremental (delta) ADS client against the scripted management server (Grpc.AspNetCore's
/// DeltaAggregatedResources), proxy in-process: the rules of xds_protocol's "Incremental xDS" one by one, and what
/// serves meanwhile. A static listener routes to cluster <c>backend</c>, which only the server defines.
/// </summary>
public class XdsDeltaProtocolTests
{
    private static string Config(ScriptedAdsServer server, string resources = "[ clusters, endpoints ]", string fileListeners = """
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - match: { path_prefix: / }
                cluster: backend
        """) => $$"""
        admin: { address: 127.0.0.1:0 }
        {{fileListeners}}
        xds:
          server: {{server.Address}}
          api: delta
          node: { id: delta-node, cluster: edge }
          resources: {{resources}}
        """;

    private static (string, string, IMessage) R(string name, string version, IMessage resource) => (name, version, resource);

    private static async Task<string> GetAsync(HttpClient client, System.Net.IPEndPoint address, string path = "/hello")
    {
        using var response = await client.GetAsync($"http://{address}{path}");
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    [Fact]
    public async Task NodeOnFirstRequestOnly_WildcardClusters_EdsFollowsByDiffs_OnlyRemovedResourcesDelete()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await server.NextDeltaSessionAsync();

        var first = await session.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.Cluster, first.TypeUrl);
        Assert.Equal("delta-node", first.Node.Id);
        Assert.Equal(["*"], first.ResourceNamesSubscribe); // the explicit wildcard
        Assert.Empty(first.InitialResourceVersions);
        Assert.Equal("", first.ResponseNonce);

        var nonce = await session.SendAsync(XdsTypeUrls.Cluster, "s1", [R("backend", "c1", XdsResources.EdsCluster("backend", "backend-svc")), R("other", "c1", XdsResources.EdsCluster("other"))]);
        var ack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Null(ack.Node); // node on the first request of the stream only
        Assert.Equal(nonce, ack.ResponseNonce);
        Assert.Null(ack.ErrorDetail);
        Assert.Empty(ack.ResourceNamesSubscribe);

        // EDS follows CDS by a subscription diff, without a nonce (it is no ACK).
        var eds = await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.Null(eds.Node);
        Assert.Equal(["backend-svc", "other"], eds.ResourceNamesSubscribe);
        Assert.Empty(eds.ResourceNamesUnsubscribe);
        Assert.Equal("", eds.ResponseNonce);

        var edsNonce = await session.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s2", [R("backend-svc", "e1", XdsResources.Assignment("backend-svc", a.Address))]);
        Assert.Equal(edsNonce, (await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment)).ResponseNonce);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(client, proxy.Listener("web")) == "200 hello from a"));

        // One assignment sent alone changes that cluster only: "backend" and the listener routing to it are the same objects.
        var backend = proxy.Host.Runtime.Current!.Clusters["backend"];
        var listener = proxy.Host.Runtime.Current.Listeners["web"];
        await session.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s3", [R("other", "e1", XdsResources.Assignment("other", b.Address))]);
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.Current!.Clusters["other"].Endpoints.Count == 1)));
        Assert.Same(backend, proxy.Host.Runtime.Current!.Clusters["backend"]);
        Assert.Same(listener, proxy.Host.Runtime.Current.Listeners["web"]);
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("web")));

        // A CDS response holding one new cluster leaves the others: nothing is deleted by omission.
        await session.SendAsync(XdsTypeUrls.Cluster, "s4", [R("third", "c1", XdsResources.StaticCluster("third", b.Address))]);
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.Current!.Clusters.ContainsKey("third"))));
        Assert.True(proxy.Host.Runtime.Current!.Clusters.ContainsKey("other"));

        // removed_resources deletes just that cluster, and EDS unsubscribes from its assignment.
        await session.SendAsync(XdsTypeUrls.Cluster, "s5", [], "other");
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        var unsubscribe = await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.Empty(unsubscribe.ResourceNamesSubscribe);
        Assert.Equal(["other"], unsubscribe.ResourceNamesUnsubscribe);
        Assert.False(proxy.Host.Runtime.Current!.Clusters.ContainsKey("other"));
        Assert.True(proxy.Host.Runtime.Current.Clusters.ContainsKey("third"));
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("web")));

        // /config_dump: the type's version is the last system_version_info, each resource's its own version.
        var dump = JsonDocument.Parse((await proxy.Admin.GetAsync("/config_dump")).Body).RootElement.GetProperty("configs")[0];
        Assert.Equal("s5", dump.GetProperty("version_info").GetString());
        var active = dump.GetProperty("dynamic_active_clusters").EnumerateArray().Single(c => c.GetProperty("cluster").GetProperty("name").GetString() == "backend");
        Assert.Equal("c1", active.GetProperty("version_info").GetString());

        // A removed assignment leaves its cluster without endpoints (503) until one comes again.
        await session.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s6", [], "backend-svc");
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => (await GetAsync(client, proxy.Listener("web"))).StartsWith("503", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Nack_CarriesTheNonceAndErrorDetail_TheLastGoodResourcesKeepServing()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await server.NextDeltaSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendAsync(XdsTypeUrls.Cluster, "s1", [R("backend", "c1", XdsResources.StaticCluster("backend", a.Address))]);
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(client, proxy.Listener("web")) == "200 hello from a"));

        var bad = XdsResources.StaticCluster("backend", b.Address);
        bad.LbPolicy = Cluster.Types.LbPolicy.ClusterProvided;
        var nonce = await session.SendAsync(XdsTypeUrls.Cluster, "s2", [R("backend", "c2", bad)]);
        var nack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal(nonce, nack.ResponseNonce);
        Assert.NotNull(nack.ErrorDetail);
        Assert.Equal(3, nack.ErrorDetail.Code); // INVALID_ARGUMENT
        Assert.Contains("cluster 'backend': lb_policy:", nack.ErrorDetail.Message);
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("web")));

        // A response naming a resource both sent and removed is refused too, in a sentence.
        var both = await session.SendAsync(XdsTypeUrls.Cluster, "s3", [R("backend", "c3", XdsResources.StaticCluster("backend", b.Address))], "backend");
        var refused = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal(both, refused.ResponseNonce);
        Assert.Contains("'backend' is both sent and removed", refused.ErrorDetail.Message);

        // Bytes that do not decode (a circuit breaker threshold cut short) are a NACK on the same stream, not its end.
        var truncated = ByteString.CopyFrom([0x0a, 0x01, 0x63, 0x52, 0x30, 0x0a, 0x0c, 0x12, 0x30]);
        var broken = await session.SendWrappedAsync(XdsTypeUrls.Cluster, "s4", [new Envoy.Service.Discovery.V3.Resource { Name = "c", Version = "c4", Resource_ = new Google.Protobuf.WellKnownTypes.Any { TypeUrl = XdsTypeUrls.Cluster, Value = truncated } }]);
        var undecodable = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal(broken, undecodable.ResponseNonce);
        Assert.Contains("cannot be decoded as envoy.config.cluster.v3.Cluster (a field inside it is cut short)", undecodable.ErrorDetail.Message);

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_xds_stream_failures_total"));
        Assert.Equal(3, metrics.Value("proxy_xds_updates_total{type=\"cds\",result=\"rejected\"}"));
        Assert.Equal(1, metrics.Value("proxy_xds_updates_total{type=\"cds\",result=\"accepted\"}"));

        // The reconnect after a NACK restates the last good version, not the rejected one.
        await server.StopAsync();
        await server.RestartAsync();
        var again = await server.NextDeltaSessionAsync(TimeSpan.FromSeconds(40));
        var first = await again.NextRequestAsync();
        Assert.Equal("c1", first.InitialResourceVersions["backend"]);
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("web")));
    }

    [Fact]
    public async Task Reconnect_RestatesEachTypeWithInitialResourceVersions_AndTheLastGoodKeepsServing()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await server.NextDeltaSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendAsync(XdsTypeUrls.Cluster, "s1", [R("backend", "c1", XdsResources.EdsCluster("backend"))]);
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        await session.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s2", [R("backend", "e7", XdsResources.Assignment("backend", a.Address))]);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(client, proxy.Listener("web")) == "200 hello from a"));

        await server.StopAsync();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => (await proxy.Admin.MetricsAsync()).Value("proxy_xds_connected") == 0));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("web")));
        }

        await server.RestartAsync();
        var again = await server.NextDeltaSessionAsync(TimeSpan.FromSeconds(40));
        var cds = await again.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.Cluster, cds.TypeUrl);
        Assert.Equal("delta-node", cds.Node.Id); // a new stream's first request carries the node again
        Assert.Equal(["*"], cds.ResourceNamesSubscribe);
        Assert.Equal(new Dictionary<string, string> { ["backend"] = "c1" }, cds.InitialResourceVersions);
        Assert.Equal("", cds.ResponseNonce);
        var eds = await again.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.ClusterLoadAssignment, eds.TypeUrl);
        Assert.Null(eds.Node);
        Assert.Equal(["backend"], eds.ResourceNamesSubscribe);
        Assert.Equal(new Dictionary<string, string> { ["backend"] = "e7" }, eds.InitialResourceVersions);

        // The server sends only what changed meanwhile.
        await again.SendAsync(XdsTypeUrls.ClusterLoadAssignment, "s3", [R("backend", "e8", XdsResources.Assignment("backend", b.Address))]);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(client, proxy.Listener("web")) == "200 hello from b"));
    }

    [Fact]
    public async Task Listeners_RoutesFollowByDiffs_ARemovedRouteConfigurationServes404_ARemovedListenerCloses()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server, "[ clusters, endpoints, listeners, routes ]", ""));
        using var client = new HttpClient();
        var session = await server.NextDeltaSessionAsync();
        Assert.Equal(XdsTypeUrls.Cluster, (await session.NextRequestAsync()).TypeUrl);
        var lds = await session.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.Listener, lds.TypeUrl);
        Assert.Null(lds.Node);
        Assert.Equal(["*"], lds.ResourceNamesSubscribe);
        await session.SendAsync(XdsTypeUrls.Cluster, "s1", [R("backend", "c1", XdsResources.StaticCluster("backend", a.Address))]);
        await session.NextRequestAsync(XdsTypeUrls.Cluster);

        await session.SendAsync(XdsTypeUrls.Listener, "s2", [R("web", "l1", HttpListener("web", 0, "web-routes"))]);
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        var rds = await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Equal(["web-routes"], rds.ResourceNamesSubscribe);
        Assert.False(proxy.Host.Runtime.BoundAddresses.ContainsKey("web")); // warming until its routes arrive
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "s3", [R("web-routes", "r1", Routes("web-routes", Prefix("/", "backend")))]);
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.BoundAddresses.ContainsKey("web"))));
        var address = proxy.Listener("web");
        Assert.Equal("200 hello from a", await GetAsync(client, address));

        // The server removes the route configuration: it does not exist, so the listener serves without routes (404).
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "s4", [], "web-routes");
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => (await GetAsync(client, address)).StartsWith("404", StringComparison.Ordinal)));
        Assert.Contains("DOES_NOT_EXIST", (await proxy.Admin.GetAsync("/config_dump")).Body);

        // It comes back: the listener takes it at once.
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "s5", [R("web-routes", "r2", Routes("web-routes", Prefix("/", "backend")))]);
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(client, address) == "200 hello from a"));

        // The listener removed: its socket closes and RDS unsubscribes from its routes.
        await session.SendAsync(XdsTypeUrls.Listener, "s6", [], "web");
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        var unsubscribe = await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Equal(["web-routes"], unsubscribe.ResourceNamesUnsubscribe);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(!proxy.Host.Runtime.BoundAddresses.ContainsKey("web"))));
    }

    [Fact]
    public async Task ListenerTlsChain_SubscribesToItsSecrets_WarmsUntilTheyArrive_ThenBinds()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-delta-sds-").FullName;
        try
        {
            using var ca = Proxy.Tls.CertificateAuthority.Create("delta sds CA", TimeSpan.FromDays(1));
            ca.Save(Path.Combine(dir, "ca"));
            using (var inbound = ca.Issue(Proxy.Tls.SpiffeId.Parse("spiffe://e2e.test/inbound"), TimeSpan.FromHours(1), []))
            {
                inbound.Save(Path.Combine(dir, "inbound"));
            }

            using (var web = ca.Issue(Proxy.Tls.SpiffeId.Parse("spiffe://e2e.test/client-web"), TimeSpan.FromHours(1), []))
            {
                web.Save(Path.Combine(dir, "client"));
            }

            using var client = XdsDownstreamTlsBinaryTests.Client((Path.Combine(dir, "client", "cert.pem"), Path.Combine(dir, "client", "key.pem")));
            await using var app = TcpUpstream.Named("app");
            await using var server = await ScriptedAdsServer.StartAsync();
            await using var proxy = await RunningProxy.StartAsync(Config(server, "[ clusters, endpoints, listeners, routes ]", ""));
            var port = TcpClientHelpers.UnusedPort();
            var session = await server.NextDeltaSessionAsync();
            await session.NextRequestAsync(XdsTypeUrls.Listener);
            await session.SendAsync(XdsTypeUrls.Cluster, "c1", [R("app", "1", XdsResources.StaticCluster("app", app.Address))]);
            var listener = TcpListener("inbound", port, "app");
            listener.FilterChains[0].FilterChainMatch = new Envoy.Config.Listener.V3.FilterChainMatch { TransportProtocol = "tls" };
            listener.FilterChains[0].TransportSocket = new Envoy.Config.Core.V3.TransportSocket
            {
                Name = "envoy.transport_sockets.tls",
                TypedConfig = Google.Protobuf.WellKnownTypes.Any.Pack(XdsDownstreamTlsBinaryTests.IstioInbound("spiffe://e2e.test/client-")),
            };
            await session.SendAsync(XdsTypeUrls.Listener, "l1", [R("inbound", "1", listener)]);

            // The chain's secrets are subscribed to after the listener, as after a cluster naming them.
            var subscribe = await session.NextRequestAsync(XdsTypeUrls.Secret);
            Assert.Equal(["ROOTCA", "default"], subscribe.ResourceNamesSubscribe.Order(StringComparer.Ordinal));

            await session.SendAsync(XdsTypeUrls.Secret, "s1",
            [
                R("default", "1", XdsTlsResources.CertificateSecret("default", File.ReadAllText(Path.Combine(dir, "inbound", "cert.pem")), File.ReadAllText(Path.Combine(dir, "inbound", "key.pem")))),
                R("ROOTCA", "1", XdsTlsResources.CaSecret("ROOTCA", File.ReadAllText(Path.Combine(dir, "ca", "ca.pem")))),
            ]);
            Assert.Null((await session.NextRequestAsync(XdsTypeUrls.Secret)).ErrorDetail);

            // The listener warmed for them and binds now that they came.
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            {
                try
                {
                    var (probe, _) = await XdsDownstreamTlsBinaryTests.ConnectAsync(port, client);
                    await using (probe)
                    {
                        return await XdsDownstreamTlsBinaryTests.ReadLineAsync(probe) == "app";
                    }
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
                {
                    return false;
                }
            }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
