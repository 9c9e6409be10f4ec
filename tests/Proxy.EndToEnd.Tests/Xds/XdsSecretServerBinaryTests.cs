using Envoy.Config.Cluster.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary takes its mTLS certificate and CA from an SDS server beside the management server, as an
/// Envoy sidecar takes <c>default</c> and <c>ROOTCA</c> from istio-agent's Unix socket: an xDS cluster reaches an mTLS
/// upstream with them, the SDS server rotates the certificate (a long-lived connection keeps working, new connections
/// present the new one), and the SDS server is killed and restarted while a client keeps sending requests.
/// </summary>
public sealed class XdsSecretServerBinaryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-sds-bin-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("sds binary CA", TimeSpan.FromDays(1));

    public XdsSecretServerBinaryTests() => _ca.Save(Path.Combine(_dir, "ca"));

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

    private static Envoy.Extensions.TransportSockets.Tls.V3.Secret Default((string Cert, string Key) files) =>
        CertificateSecret("default", File.ReadAllText(files.Cert), File.ReadAllText(files.Key));

    [SkippableFact]
    public async Task Binary_MtlsFromTheSdsServerOverUds_RotationKeepsOpenConnections_AndTheServerKilledAndRestarted()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        var ca = File.ReadAllText(Path.Combine(_dir, "ca", "ca.pem"));
        var server = Issue("upstream", "upstream.test");
        var one = Issue("client-one");
        var two = Issue("client-two");
        var three = Issue("client-three");
        var socket = Path.Combine(_dir, "workload-spiffe-uds", "socket");
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        await using var upstream = await MtlsUpstream.StartAsync("up", server.Cert, server.Key);
        await using var sds = await ScriptedSdsServer.StartAsync(socket);
        await using var ads = await ScriptedAdsServer.StartAsync();
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: / }, cluster: secure } ]
            xds:
              server: {{ads.Address}}
              node: { id: sds-binary }
              secret_servers: { sds-grpc: "unix:{{socket}}" }
            """, adminPort);
        using var http = new HttpClient();
        async Task<string> Get()
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{listenPort}/whoami");
            var body = await response.Content.ReadAsStringAsync();
            return response.IsSuccessStatusCode ? $"200 {body[..body.LastIndexOf(' ')]}" : $"{(int)response.StatusCode}";
        }

        // istiod's cluster: default and ROOTCA from the sds-grpc cluster (the agent's socket).
        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        var cluster = XdsResources.StaticCluster("secure", upstream.Address);
        cluster.TransportSocket = TlsSocket(IstioMutual("spiffe://e2e.test/upstream", IstioAgent()));
        await session.SendClustersAsync("v1", cluster);
        Assert.Null((await session.NextRequestAsync(XdsTypeUrls.Cluster)).ErrorDetail);

        var agent = await sds.NextSessionAsync();
        var first = await agent.NextRequestAsync();
        Assert.Equal(("sds-binary", XdsTypeUrls.Secret), (first.Node?.Id, first.TypeUrl));
        Assert.Equal(["ROOTCA", "default"], first.ResourceNames);
        Assert.Equal("503", await Get()); // fails closed until the secrets come
        await agent.SendAsync(XdsTypeUrls.Secret, "s1", Default(one), CaSecret("ROOTCA", ca));
        Assert.Equal("s1", (await agent.NextRequestAsync()).VersionInfo);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 up spiffe://e2e.test/client-one"));

        // Rotation: a request held on a connection made with the first certificate outlives it; new ones present the new one.
        upstream.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = http.GetStringAsync($"http://127.0.0.1:{listenPort}/held");
        await Task.Delay(300);
        await agent.SendAsync(XdsTypeUrls.Secret, "s2", Default(two));
        Assert.Equal("s2", (await agent.NextRequestAsync()).VersionInfo);
        Assert.Equal("200 up spiffe://e2e.test/client-two", await Get());
        upstream.Hold.SetResult();
        Assert.Equal("released up", await held);

        // The agent is killed and comes back while a client keeps sending (each request a new upstream connection, so a
        // new handshake): no request fails (the secrets held serve), and the new stream restates what is held and takes
        // the next rotation.
        await using (var loop = new RequestLoop($"http://127.0.0.1:{listenPort}/whoami"))
        {
            await sds.StopAsync();
            Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await proxy.MetricAsync("proxy_xds_secret_server_connected{server=\"sds-grpc\"}") == 0));
            await Task.Delay(1500);
            await sds.RestartAsync();
            var back = await sds.NextSessionAsync(TimeSpan.FromSeconds(30));
            var restated = await back.NextRequestAsync();
            Assert.Equal(("sds-binary", "s2", ""), (restated.Node?.Id, restated.VersionInfo, restated.ResponseNonce));
            await back.SendAsync(XdsTypeUrls.Secret, "s3", Default(three), CaSecret("ROOTCA", ca));
            Assert.Equal("s3", (await back.NextRequestAsync()).VersionInfo);
            await Task.Delay(500);
            Assert.True(loop.Count > 10, $"only {loop.Count} requests were sent");
            Assert.Null(loop.FirstFailure);
        }

        Assert.Equal("200 up spiffe://e2e.test/client-three", await Get());
        Assert.True(await proxy.MetricAsync("proxy_xds_secret_server_stream_failures_total{server=\"sds-grpc\"}") >= 1);
    }
}
