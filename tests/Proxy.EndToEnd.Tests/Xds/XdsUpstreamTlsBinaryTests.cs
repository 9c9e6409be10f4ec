using System.Net;
using Envoy.Config.Cluster.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary originates TLS as the management server says: SDS secrets over ADS (cluster first, secret
/// after, then rotated), certificates from files, and a SAN mismatch that fails closed. A real TLS upstream that
/// asks for a client certificate says whose it got.
/// </summary>
public sealed class XdsUpstreamTlsBinaryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-xds-tls-bin-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("xds binary CA", TimeSpan.FromDays(1));

    public XdsUpstreamTlsBinaryTests() => _ca.Save(Path.Combine(_dir, "ca"));

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

    private static Cluster StaticTls(string address, UpstreamTlsContext tls)
    {
        var cluster = XdsResources.StaticCluster("secure", address);
        cluster.TransportSocket = TlsSocket(tls);
        return cluster;
    }

    [SkippableFact]
    public async Task Binary_SdsSecretsThenRotation_FilesAndASanMismatch()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        var ca = Path.Combine(_dir, "ca", "ca.pem");
        var server = Issue("upstream", "upstream.test");
        var one = Issue("client-one");
        var two = Issue("client-two");
        var file = Issue("client-file");
        await using var upstream = await MtlsUpstream.StartAsync("up", server.Cert, server.Key);
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
              node: { id: tls-binary }
            """, adminPort);
        using var http = new HttpClient();
        async Task<string> Get()
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{listenPort}/whoami");
            var body = await response.Content.ReadAsStringAsync();
            return response.IsSuccessStatusCode ? $"200 {body[..body.LastIndexOf(' ')]}"
                : $"{(int)response.StatusCode} {string.Join(",", response.Headers.TryGetValues("x-proxy-error", out var e) ? e : [])}";
        }

        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        await session.SendClustersAsync("v1", StaticTls(upstream.Address, IstioMutual("spiffe://e2e.test/upstream", Ads())));
        Assert.Equal(["ROOTCA", "default"], (await session.NextRequestAsync(XdsTypeUrls.Secret)).ResourceNames);
        Assert.StartsWith("503", await Get()); // waits for its secrets, closed

        await session.SendAsync(XdsTypeUrls.Secret, "s1", CertificateSecret("default", File.ReadAllText(one.Cert), File.ReadAllText(one.Key)), CaSecret("ROOTCA", File.ReadAllText(ca)));
        Assert.Equal("s1", (await session.NextRequestAsync(XdsTypeUrls.Secret)).VersionInfo);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await Get() == "200 up spiffe://e2e.test/client-one"));

        await session.SendAsync(XdsTypeUrls.Secret, "s2", CertificateSecret("default", File.ReadAllText(two.Cert), File.ReadAllText(two.Key)));
        Assert.Equal("s2", (await session.NextRequestAsync(XdsTypeUrls.Secret)).VersionInfo);
        Assert.Equal("200 up spiffe://e2e.test/client-two", await Get());

        await session.SendClustersAsync("v2", StaticTls(upstream.Address, FromFiles(file.Cert, file.Key, ca, "spiffe://e2e.test/not-the-upstream")));
        Assert.Equal("v2", (await session.NextRequestAsync(XdsTypeUrls.Cluster)).VersionInfo);
        Assert.Equal("502 upstream-connect-failure", await Get());

        await session.SendClustersAsync("v3", StaticTls(upstream.Address, FromFiles(file.Cert, file.Key, ca, "spiffe://e2e.test/upstream")));
        Assert.Equal("v3", (await session.NextRequestAsync(XdsTypeUrls.Cluster)).VersionInfo);
        Assert.Equal("200 up spiffe://e2e.test/client-file", await Get());
        Assert.Equal(2, await proxy.MetricAsync("proxy_xds_updates_total{type=\"sds\",result=\"accepted\"}"));
    }
}
