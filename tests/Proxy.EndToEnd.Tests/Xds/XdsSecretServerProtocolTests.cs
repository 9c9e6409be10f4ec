using System.Net;
using System.Net.Sockets;
using Envoy.Config.Cluster.V3;
using Envoy.Config.Listener.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// SDS from a server beside the management server, as istio-agent serves <c>default</c> and <c>ROOTCA</c> on a Unix
/// socket that istiod names <c>sds-grpc</c>: the proxy in-process, the scripted ADS server, a scripted SDS server
/// (SecretDiscoveryService.StreamSecrets over a Unix socket), real TLS upstreams and clients. The SDS stream's rules
/// request by request (node first, names following the resources, ACK, NACK, resubscription on reconnect), and the
/// secrets reaching upstream and downstream TLS.
/// </summary>
public sealed class XdsSecretServerProtocolTests : IDisposable
{
    private const string UpstreamId = "spiffe://e2e.test/upstream";
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-sds-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("sds server CA", TimeSpan.FromDays(1));

    public XdsSecretServerProtocolTests() => _ca.Save(Path.Combine(_dir, "ca"));

    private string CaPem => File.ReadAllText(Path.Combine(_dir, "ca", "ca.pem"));

    private string SocketPath => Path.Combine(_dir, "sds.sock");

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (string Cert, string Key) Issue(string name, params string[] dns)
    {
        using var workload = _ca.Issue(SpiffeId.Parse($"spiffe://e2e.test/{name}"), TimeSpan.FromHours(1), dns);
        workload.Save(Path.Combine(_dir, name));
        return (Path.Combine(_dir, name, "cert.pem"), Path.Combine(_dir, name, "key.pem"));
    }

    private Envoy.Extensions.TransportSockets.Tls.V3.Secret Default((string Cert, string Key) files) =>
        CertificateSecret("default", File.ReadAllText(files.Cert), File.ReadAllText(files.Key));

    private string Config(ScriptedAdsServer ads, string resources = "[ clusters, endpoints ]") => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes: [ { match: { path_prefix: / }, cluster: secure } ]
        xds:
          server: {{ads.Address}}
          node: { id: sds-node, cluster: web.shop }
          resources: {{resources}}
          secret_servers: { sds-grpc: "unix:{{SocketPath}}" }
        """;

    private static Cluster IstioCluster(string address)
    {
        var cluster = XdsResources.StaticCluster("secure", address);
        cluster.TransportSocket = TlsSocket(IstioMutual(UpstreamId, IstioAgent()));
        return cluster;
    }

    private static async Task<string> GetAsync(RunningProxy proxy, HttpClient client)
    {
        using var response = await client.GetAsync($"http://{proxy.Listener("web")}/whoami");
        var body = await response.Content.ReadAsStringAsync();
        return $"{(int)response.StatusCode} {(response.IsSuccessStatusCode ? body[..body.LastIndexOf(' ')] : body)}";
    }

    [Fact]
    public async Task SdsStream_NodeFirst_NamesFollowTheClusters_AckAndNack_ClosesWhenNothingNamesIt()
    {
        var server = Issue("upstream", "upstream.test");
        var one = Issue("client-one");
        await using var upstream = await MtlsUpstream.StartAsync("up", server.Cert, server.Key);
        await using var sds = await ScriptedSdsServer.StartAsync(SocketPath);
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads));
        using var http = new HttpClient();
        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await Task.Delay(300);
        Assert.Equal(0, sds.Streams); // nothing names a secret of it yet: no stream

        await session.SendClustersAsync("v1", IstioCluster(upstream.Address));
        Assert.Null((await session.NextRequestAsync(XdsTypeUrls.Cluster)).ErrorDetail);

        // The first request names the secrets the cluster waits for, with the node; nothing is held yet.
        var agent = await sds.NextSessionAsync();
        var first = await agent.NextRequestAsync();
        Assert.Equal((XdsTypeUrls.Secret, "sds-node", "web.shop", "", ""), (first.TypeUrl, first.Node?.Id, first.Node?.Cluster, first.VersionInfo, first.ResponseNonce));
        Assert.Equal(["ROOTCA", "default"], first.ResourceNames);
        Assert.StartsWith("503 ", await GetAsync(proxy, http)); // fails closed until they come

        // ACK: the version and nonce echoed, the same names, no node.
        var nonce = await agent.SendAsync(XdsTypeUrls.Secret, "s1", Default(one), CaSecret("ROOTCA", CaPem));
        var ack = await agent.NextRequestAsync();
        Assert.Equal(("s1", nonce, (Google.Rpc.Status?)null, (Envoy.Config.Core.V3.Node?)null), (ack.VersionInfo, ack.ResponseNonce, ack.ErrorDetail, ack.Node));
        Assert.Equal(["ROOTCA", "default"], ack.ResourceNames);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(proxy, http) == "200 up spiffe://e2e.test/client-one"));

        // NACK: the last accepted version, the rejected nonce, the reason; the last good secret keeps serving.
        var bad = await agent.SendAsync(XdsTypeUrls.Secret, "s2", CertificateSecret("default", "not pem", "not pem"));
        var nack = await agent.NextRequestAsync();
        Assert.Equal(("s1", bad), (nack.VersionInfo, nack.ResponseNonce));
        Assert.StartsWith("secret 'default': ", nack.ErrorDetail.Message);
        Assert.Equal("200 up spiffe://e2e.test/client-one", await GetAsync(proxy, http));

        // The ADS stream never asked for these secrets: they are the agent's.
        var dump = (await proxy.Admin.GetAsync("/config_dump")).Body;
        Assert.Contains("\"name\":\"default\"", dump.Replace(" ", ""));
        Assert.DoesNotContain("PRIVATE KEY", dump);

        // No cluster names them any more: the stream closes; one naming them again opens a new one, node first,
        // restating the version held.
        await session.SendClustersAsync("v2");
        Assert.Null((await session.NextRequestAsync(XdsTypeUrls.Cluster)).ErrorDetail);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(agent.Requests.Reader.Completion.IsCompleted)));
        await session.SendClustersAsync("v3", IstioCluster(upstream.Address));
        var again = await (await sds.NextSessionAsync()).NextRequestAsync();
        Assert.Equal(("sds-node", ""), (again.Node?.Id, again.ResponseNonce));
        Assert.Equal(["ROOTCA", "default"], again.ResourceNames);
    }

    [Fact]
    public async Task SdsServerRestarted_LastSecretsKeepServing_NewStreamResubscribesWithTheVersionHeld_ThenARotationTakesNewConnections()
    {
        var server = Issue("upstream", "upstream.test");
        var one = Issue("client-one");
        var two = Issue("client-two");
        await using var upstream = await MtlsUpstream.StartAsync("up", server.Cert, server.Key);
        await using var sds = await ScriptedSdsServer.StartAsync(SocketPath);
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads));
        using var http = new HttpClient();
        var session = await ads.NextSessionAsync();
        await session.SendClustersAsync("v1", IstioCluster(upstream.Address));
        var agent = await sds.NextSessionAsync();
        await agent.NextRequestAsync();
        await agent.SendAsync(XdsTypeUrls.Secret, "s1", Default(one), CaSecret("ROOTCA", CaPem));
        Assert.Equal("s1", (await agent.NextRequestAsync()).VersionInfo);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(proxy, http) == "200 up spiffe://e2e.test/client-one"));

        // The agent goes away: new handshakes still take the secrets last accepted.
        await sds.StopAsync();
        Assert.True(await proxy.LoggedAsync("the SDS stream to a secret server ended"), proxy.Log.ToString());
        Assert.Equal("200 up spiffe://e2e.test/client-one", await GetAsync(proxy, http));
        Assert.Equal("200 up spiffe://e2e.test/client-one", await GetAsync(proxy, http));

        // It comes back: the new stream carries the node again, the version held and the names, with no nonce.
        await sds.RestartAsync();
        var back = await sds.NextSessionAsync(TimeSpan.FromSeconds(20));
        var restated = await back.NextRequestAsync();
        Assert.Equal(("sds-node", "s1", ""), (restated.Node?.Id, restated.VersionInfo, restated.ResponseNonce));
        Assert.Equal(["ROOTCA", "default"], restated.ResourceNames);

        // A rotation: a request held on a connection made with the first certificate outlives it; new ones take the new one.
        upstream.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = http.GetStringAsync($"http://{proxy.Listener("web")}/held");
        await Task.Delay(300);
        await back.SendAsync(XdsTypeUrls.Secret, "s2", Default(two));
        Assert.Equal("s2", (await back.NextRequestAsync()).VersionInfo);
        Assert.Equal("200 up spiffe://e2e.test/client-two", await GetAsync(proxy, http));
        upstream.Hold.SetResult();
        Assert.Equal("released up", await held);
        Assert.Equal(1, (await proxy.Admin.MetricsAsync()).Value("proxy_xds_secret_server_connected{server=\"sds-grpc\"}"));
    }

    [Fact]
    public async Task DownstreamTlsChain_CertificateFromTheSdsServer_ListenerWaitsForIt_AndARotationReachesNewHandshakes()
    {
        using var client = XdsDownstreamTlsBinaryTests.Client(Issue("client-web"));
        var inboundOne = Issue("inbound-one");
        var inboundTwo = Issue("inbound-two");
        await using var app = TcpUpstream.Named("app");
        await using var sds = await ScriptedSdsServer.StartAsync(SocketPath);
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads, "[ clusters, endpoints, listeners, routes ]"));
        var port = TcpClientHelpers.UnusedPort();
        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1", XdsResources.StaticCluster("app", app.Address));

        // Istio's inbound chain, its default and ROOTCA from the agent's socket.
        var tls = XdsDownstreamTlsBinaryTests.IstioInbound("spiffe://e2e.test/client-");
        tls.CommonTlsContext.TlsCertificateSdsSecretConfigs[0].SdsConfig = IstioAgent();
        tls.CommonTlsContext.CombinedValidationContext.ValidationContextSdsSecretConfig.SdsConfig = IstioAgent();
        var listener = XdsListenerResources.TcpListener("inbound", port, "app");
        listener.FilterChains[0].FilterChainMatch = new FilterChainMatch { TransportProtocol = "tls" };
        listener.FilterChains[0].TransportSocket = new Envoy.Config.Core.V3.TransportSocket { Name = "envoy.transport_sockets.tls", TypedConfig = Any.Pack(tls) };
        await session.SendAsync(XdsTypeUrls.Listener, "l1", listener);
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");

        var agent = await sds.NextSessionAsync();
        Assert.Equal(["ROOTCA", "default"], (await agent.NextRequestAsync()).ResourceNames);
        await Assert.ThrowsAnyAsync<SocketException>(async () => await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port))); // warming

        await agent.SendAsync(XdsTypeUrls.Secret, "s1", Default(inboundOne), CaSecret("ROOTCA", CaPem));
        Assert.Equal("s1", (await agent.NextRequestAsync()).VersionInfo);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                var (probe, _) = await XdsDownstreamTlsBinaryTests.ConnectAsync(port, client);
                await probe.DisposeAsync();
                return true;
            }
            catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException)
            {
                return false;
            }
        }));

        var (open, presented) = await XdsDownstreamTlsBinaryTests.ConnectAsync(port, client);
        await using var kept = open;
        Assert.Contains("spiffe://e2e.test/inbound-one", string.Join(",", SubjectAltNames.Read(presented).Select(static n => n.Name)));
        Assert.Equal("app", await XdsDownstreamTlsBinaryTests.ReadLineAsync(kept));

        await agent.SendAsync(XdsTypeUrls.Secret, "s2", Default(inboundTwo));
        Assert.Equal("s2", (await agent.NextRequestAsync()).VersionInfo);
        var (fresh, rotated) = await XdsDownstreamTlsBinaryTests.ConnectAsync(port, client);
        await using (fresh)
        {
            Assert.Contains("spiffe://e2e.test/inbound-two", string.Join(",", SubjectAltNames.Read(rotated).Select(static n => n.Name)));
        }

        await kept.WriteAsync("still here\n"u8.ToArray());
        Assert.Equal("still here", await XdsDownstreamTlsBinaryTests.ReadLineAsync(kept));
    }

    [Fact]
    public async Task ASecretFromAServerTheConfigDoesNotName_IsNacked_NamingTheResourceTheFieldAndTheKeyToAdd()
    {
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            xds: { server: {{ads.Address}}, node: { id: n } }
            """);
        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster); // the subscription
        var cluster = XdsResources.StaticCluster("secure", "127.0.0.1:1");
        var context = IstioMutual(UpstreamId, IstioAgent());
        context.CommonTlsContext.TlsCertificateSdsSecretConfigs[0].Name = "spiffe-cert";
        cluster.TransportSocket = TlsSocket(context);
        await session.SendClustersAsync("v1", cluster);
        var nack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal("cluster 'secure': transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name: "
            + "secret 'spiffe-cert' comes from the SDS server 'sds-grpc', which the proxy does not know; add it to xds.secret_servers "
            + "(sds-grpc: unix:./var/run/secrets/workload-spiffe-uds/socket, istio-agent's socket), or send the secret over ADS (sds_config: { ads: {} })", nack.ErrorDetail.Message);
    }
}
