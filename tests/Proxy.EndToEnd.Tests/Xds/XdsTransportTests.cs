using System.Security.Cryptography.X509Certificates;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
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

    [Fact]
    public async Task TlsServer_IsVerifiedAgainstTheCa_AndGetsTheClientCertificate()
    {
        var folder = Directory.CreateTempSubdirectory("proxy-xds-tls-").FullName;
        using var ca = CertificateAuthority.Create("xds CA", TimeSpan.FromDays(1));
        ca.Save(Path.Combine(folder, "ca"));
        using (var serverCert = ca.IssueServer(["xds.test"], TimeSpan.FromHours(1)))
        {
            serverCert.Save(Path.Combine(folder, "server"));
        }

        using (var clientCert = ca.Issue(SpiffeId.Parse("spiffe://mesh.test/ns/shop/sa/web"), TimeSpan.FromHours(1)))
        {
            clientCert.Save(Path.Combine(folder, "client"));
        }

        var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(folder, "server", "cert.pem"), Path.Combine(folder, "server", "key.pem"));
        await using var server = await ScriptedAdsServer.StartTlsAsync(certificate);
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            xds:
              server: {{server.Address}}
              tls: { ca: {{folder}}/ca/ca.pem, cert: {{folder}}/client/cert.pem, key: {{folder}}/client/key.pem, sni: xds.test }
              node: { id: tls-node }
            """);
        AdsSession session;
        try
        {
            session = await server.NextSessionAsync();
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("no stream arrived; the proxy logged:\n" + proxy.Log);
            throw;
        }

        Assert.Equal("tls-node", (await session.NextRequestAsync()).Node.Id);
        Assert.NotNull(server.LastClientCertificate);
    }
}
