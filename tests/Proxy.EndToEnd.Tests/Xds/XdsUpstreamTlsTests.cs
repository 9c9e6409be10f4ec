using System.Net;
using Envoy.Config.Cluster.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// Upstream TLS from the management server, end to end: real TLS upstreams (Kestrel) that ask for a client
/// certificate, certificates made by the proxy's own CA helper in a temp folder, the scripted ADS server, a real HTTP
/// client. Files, SDS over ADS (cluster first, secret after, then rotated), and Istio's per-endpoint
/// transport_socket_matches.
/// </summary>
public sealed class XdsUpstreamTlsTests : IDisposable
{
    private const string UpstreamId = "spiffe://e2e.test/upstream";
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-xds-tls-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("xds e2e CA", TimeSpan.FromDays(1));

    public XdsUpstreamTlsTests() => _ca.Save(Path.Combine(_dir, "ca"));

    private string CaPath => Path.Combine(_dir, "ca", "ca.pem");

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

    private static string Config(ScriptedAdsServer server, string extra = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - match: { path_prefix: / }
                cluster: secure
        xds:
          server: {{server.Address}}
          node: { id: tls-node }
        {{extra}}
        """;

    /// <summary>The status and body of one GET (for /whoami without the upstream's port of the proxy's connection).</summary>
    private static async Task<string> GetAsync(RunningProxy proxy, HttpClient client, string path = "/whoami")
    {
        using var response = await client.GetAsync($"http://{proxy.Listener("web")}{path}");
        var body = await response.Content.ReadAsStringAsync();
        return $"{(int)response.StatusCode} {(path == "/whoami" && response.IsSuccessStatusCode ? body[..body.LastIndexOf(' ')] : body)}";
    }

    private static Cluster StaticTls(string address, Envoy.Extensions.TransportSockets.Tls.V3.UpstreamTlsContext tls)
    {
        var cluster = XdsResources.StaticCluster("secure", address);
        cluster.TransportSocket = TlsSocket(tls);
        return cluster;
    }

    [Fact]
    public async Task FilesFromTheServer_ReachATlsUpstreamWithTheClientCertificate_AndASanMismatchFailsClosed()
    {
        var server = Issue("upstream", "upstream.test");
        var client = Issue("client");
        await using var upstream = await MtlsUpstream.StartAsync("up", server.Cert, server.Key);
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads));
        using var http = new HttpClient();
        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster); // the subscription

        await session.SendClustersAsync("v1", StaticTls(upstream.Address, FromFiles(client.Cert, client.Key, CaPath, UpstreamId)));
        Assert.Null((await session.NextRequestAsync(XdsTypeUrls.Cluster)).ErrorDetail);
        Assert.Equal("200 up spiffe://e2e.test/client", await GetAsync(proxy, http));
        Assert.Equal("200 up spiffe://e2e.test/client", await GetAsync(proxy, http));

        // The server wants another identity than the upstream has: the handshake is refused, no request reaches it.
        await session.SendClustersAsync("v2", StaticTls(upstream.Address, FromFiles(client.Cert, client.Key, CaPath, "spiffe://e2e.test/someone-else")));
        Assert.Null((await session.NextRequestAsync(XdsTypeUrls.Cluster)).ErrorDetail);
        using var refused = await http.GetAsync($"http://{proxy.Listener("web")}/whoami");
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Equal("upstream-connect-failure", refused.Headers.GetValues("x-proxy-error").Single()); // flag UF
        Assert.True(await proxy.LoggedAsync("the cluster accepts only a name matching exact spiffe://e2e.test/someone-else"), proxy.Log.ToString());
    }

    [Fact]
    public async Task SdsOverAds_ClusterFirstSecretAfter_ThenARotatedSecret_TakesNewConnections_AndKeepsOpenOnes()
    {
        var server = Issue("upstream", "upstream.test");
        var first = Issue("client-one");
        var second = Issue("client-two");
        await using var upstream = await MtlsUpstream.StartAsync("up", server.Cert, server.Key);
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads));
        using var http = new HttpClient();
        var session = await ads.NextSessionAsync();

        await session.SendClustersAsync("v1", StaticTls(upstream.Address, IstioMutual(UpstreamId, Ads())));
        var subscription = await session.NextRequestAsync(XdsTypeUrls.Secret);
        Assert.Equal(["ROOTCA", "default"], subscription.ResourceNames);

        // The cluster waits for its secrets: it fails closed, never plain text or TLS without a certificate.
        Assert.StartsWith("503 ", await GetAsync(proxy, http));

        await session.SendAsync(XdsTypeUrls.Secret, "s1",
            CertificateSecret("default", File.ReadAllText(first.Cert), File.ReadAllText(first.Key)), CaSecret("ROOTCA", File.ReadAllText(CaPath)));
        var ack = await session.NextRequestAsync(XdsTypeUrls.Secret);
        Assert.Equal(("s1", (Google.Rpc.Status?)null), (ack.VersionInfo, ack.ErrorDetail));
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetAsync(proxy, http) == "200 up spiffe://e2e.test/client-one"));

        // A request held open on a connection made with the first certificate outlives the rotation.
        upstream.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = GetAsync(proxy, http, "/held");
        await Task.Delay(300);
        await session.SendAsync(XdsTypeUrls.Secret, "s2", CertificateSecret("default", File.ReadAllText(second.Cert), File.ReadAllText(second.Key)));
        Assert.Equal("s2", (await session.NextRequestAsync(XdsTypeUrls.Secret)).VersionInfo);
        Assert.Equal("200 up spiffe://e2e.test/client-two", await GetAsync(proxy, http));
        upstream.Hold.SetResult();
        Assert.Equal("200 released up", await held);

        // A secret that does not load is NACKed, and the last good one keeps serving.
        await session.SendAsync(XdsTypeUrls.Secret, "s3", CertificateSecret("default", "not pem", "not pem"));
        var nack = await session.NextRequestAsync(XdsTypeUrls.Secret);
        Assert.Equal("s2", nack.VersionInfo);
        Assert.StartsWith("secret 'default': ", nack.ErrorDetail.Message);
        Assert.Equal("200 up spiffe://e2e.test/client-two", await GetAsync(proxy, http));

        // /config_dump lists the secrets as Envoy does (istioctl proxy-config secret), the private key redacted.
        var dump = (await proxy.Admin.GetAsync("/config_dump")).Body;
        var secrets = System.Text.Json.JsonDocument.Parse(dump).RootElement.GetProperty("configs").EnumerateArray()
            .Single(c => c.GetProperty("@type").GetString() == "type.googleapis.com/envoy.admin.v3.SecretsConfigDump").GetProperty("dynamic_active_secrets");
        Assert.Equal(["ROOTCA", "default"], secrets.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var secret = secrets[1];
        Assert.Equal("s2", secret.GetProperty("version_info").GetString());
        Assert.Equal("[redacted]", secret.GetProperty("secret").GetProperty("tls_certificate").GetProperty("private_key").GetProperty("inline_string").GetString());
        Assert.DoesNotContain("PRIVATE KEY", dump);
        Assert.Contains("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", dump);
    }

    [Fact]
    public async Task TransportSocketMatches_OneEndpointMeshedOnePlain_BothReached()
    {
        var server = Issue("upstream", "upstream.test");
        var client = Issue("client");
        await using var meshed = await MtlsUpstream.StartAsync("meshed", server.Cert, server.Key);
        await using var plain = await KestrelUpstream.StartAsync("plain");
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads));
        using var http = new HttpClient();
        var session = await ads.NextSessionAsync();

        var cluster = XdsResources.EdsCluster("secure");
        AddIstioMatches(cluster, FromFiles(client.Cert, client.Key, CaPath, UpstreamId));
        await session.SendClustersAsync("v1", cluster);
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        var assignment = XdsResources.Assignment("secure", meshed.Address, plain.Address);
        MarkIstio(assignment.Endpoints[0].LbEndpoints[0]);
        await session.SendEndpointsAsync("e1", assignment);
        Assert.Null((await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment)).ErrorDetail);

        var seen = new HashSet<string>();
        for (var i = 0; i < 10; i++)
        {
            seen.Add(await GetAsync(proxy, http, "/hello"));
        }

        Assert.Equal(["200 hello from meshed", "200 hello from plain"], seen.Order());

        // The endpoints swap labels: each now gets the other socket, and neither answers (TLS to plain, plain to TLS).
        var swapped = XdsResources.Assignment("secure", meshed.Address, plain.Address);
        MarkIstio(swapped.Endpoints[0].LbEndpoints[1]);
        await session.SendEndpointsAsync("e2", swapped);
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        for (var i = 0; i < 4; i++)
        {
            Assert.DoesNotContain("hello", await GetAsync(proxy, http, "/hello"));
        }
    }

    /// <summary>
    /// An HTTP/2 cluster with TLS whose endpoint is left in plain text by transport_socket_matches is sent
    /// <c>:scheme http</c>, the scheme of the connection it travels on (RFC 9113 8.3.1). Before, the scheme followed the
    /// cluster's TLS, and Kestrel (which checks it against its connection) reset every stream.
    /// </summary>
    [Fact]
    public async Task TransportSocketMatches_PlainHttp2Endpoint_IsSentSchemeHttp()
    {
        var client = Issue("client");
        await using var plain = await KestrelUpstream.StartAsync("plain-h2c", Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads));
        using var http = new HttpClient();
        var session = await ads.NextSessionAsync();

        var cluster = XdsResources.EdsCluster("secure");
        AddIstioMatches(cluster, FromFiles(client.Cert, client.Key, CaPath, UpstreamId));
        var options = new Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions
        {
            ExplicitHttpConfig = new() { Http2ProtocolOptions = new Envoy.Config.Core.V3.Http2ProtocolOptions() },
        };
        cluster.TypedExtensionProtocolOptions.Add("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Google.Protobuf.WellKnownTypes.Any.Pack(options));
        await session.SendClustersAsync("v1", cluster);
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        await session.SendEndpointsAsync("e1", XdsResources.Assignment("secure", plain.Address)); // not labelled tlsMode: istio
        Assert.Null((await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment)).ErrorDetail);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("200 hello from plain-h2c", await GetAsync(proxy, http, "/hello"));
        }
    }

    [Fact]
    public async Task IstioAgentSecrets_WithoutMeshIdentity_AreNacked_AndWithIt_ComeFromTheIdentityFiles()
    {
        var server = Issue("upstream", "upstream.test");
        var workload = Issue("workload");
        await using var upstream = await MtlsUpstream.StartAsync("up", server.Cert, server.Key);
        await using var ads = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(ads));
        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster); // the subscription
        await session.SendClustersAsync("v1", StaticTls(upstream.Address, IstioMutual(UpstreamId, IstioAgent())));
        var nack = await session.NextRequestAsync(XdsTypeUrls.Cluster);
        Assert.Equal("cluster 'secure': transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name: secret 'default' (the workload certificate) comes from the SDS server 'sds-grpc', "
            + "which the proxy does not know; add it to xds.secret_servers (sds-grpc: unix:./var/run/secrets/workload-spiffe-uds/socket, istio-agent's socket), or configure mesh.identity (cert, key, ca) to take it from files", nack.ErrorDetail.Message);

        // With mesh.identity, default and ROOTCA are the workload's own certificate and the mesh CA.
        await using var ads2 = await ScriptedAdsServer.StartAsync();
        await using var meshProxy = await RunningProxy.StartAsync(Config(ads2, $$"""
            mesh:
              identity: { cert: {{workload.Cert}}, key: {{workload.Key}}, ca: {{CaPath}} }
              inbound: { port: {{TcpClientHelpers.UnusedPort()}} }
              outbound: { port: {{TcpClientHelpers.UnusedPort()}} }
            """));
        var session2 = await ads2.NextSessionAsync();
        await session2.NextRequestAsync(XdsTypeUrls.Cluster); // the subscription
        await session2.SendClustersAsync("v1", StaticTls(upstream.Address, IstioMutual(UpstreamId, IstioAgent())));
        Assert.Null((await session2.NextRequestAsync(XdsTypeUrls.Cluster)).ErrorDetail);
        using var http = new HttpClient();
        Assert.Equal("200 up spiffe://e2e.test/workload", await GetAsync(meshProxy, http));
    }
}
