using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Resilience;

/// <summary>
/// Mirrored copies go to the mirror cluster in its own terms: as HTTP/2 streams to a <c>protocol: http2</c> cluster,
/// over TLS to a cluster with <c>tls</c>, from HTTP/1.1 and HTTP/2 clients alike.
/// </summary>
public sealed class MirrorProtocolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-mirror-e2e-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("mirror e2e CA", TimeSpan.FromDays(1));

    public MirrorProtocolTests() => _ca.Save(Path.Combine(_dir, "ca"));

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Config(string primary, string shadow, string shadowExtra) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - match: { path_prefix: / }
                cluster: primary
                mirror: { cluster: shadow, percent: 100 }
        clusters:
          - { name: primary, endpoints: [ {{primary}} ] }
          - name: shadow
            endpoints: [ {{shadow}} ]
        {{shadowExtra}}
        """;

    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task Mirror_Http2Cluster_CopiesSentAsHttp2Streams(string downstream)
    {
        await using var primary = await KestrelUpstream.StartAsync("primary");
        await using var shadow = await KestrelUpstream.StartAsync("shadow", HttpProtocols.Http2); // h2c only: an HTTP/1.1 copy is refused
        await using var proxy = await RunningProxy.StartAsync(Config(primary.Address, shadow.Address, "    protocol: http2"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("hello from primary", await client.GetStringAsync("/hello"));
        }

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(shadow.Requests == 3)), $"the shadow got {shadow.Requests} of 3 copies");
    }

    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task Mirror_TlsCluster_CopiesSentOverTls(string downstream)
    {
        using var workload = _ca.Issue(SpiffeId.Parse("spiffe://e2e.test/shadow"), TimeSpan.FromHours(1), ["shadow.test"]);
        workload.Save(Path.Combine(_dir, "shadow"));
        var seen = 0;
        await using var shadow = await StartHttpsShadowAsync(Path.Combine(_dir, "shadow", "cert.pem"), Path.Combine(_dir, "shadow", "key.pem"), () => Interlocked.Increment(ref seen));
        var shadowPort = shadow.Urls.Select(u => new Uri(u).Port).First();
        await using var primary = await KestrelUpstream.StartAsync("primary");
        await using var proxy = await RunningProxy.StartAsync(Config(primary.Address, $"127.0.0.1:{shadowPort}",
            $"    tls: {{ sni: shadow.test, ca: {Path.Combine(_dir, "ca", "ca.pem")} }}"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("hello from primary", await client.GetStringAsync("/hello"));
        }

        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref seen) == 3)), $"the TLS shadow got {seen} of 3 copies");
    }

    /// <summary>Kestrel speaking HTTP/1.1 over TLS only; every request to /hello is counted.</summary>
    private static async Task<WebApplication> StartHttpsShadowAsync(string cert, string key, Action onRequest)
    {
        var certificate = X509Certificate2.CreateFromPemFile(cert, key);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
        {
            o.Protocols = HttpProtocols.Http1;
            o.UseHttps(certificate);
        }));
        var app = builder.Build();
        app.MapGet("/hello", () =>
        {
            onRequest();
            return "hello from shadow";
        });
        await app.StartAsync();
        return app;
    }
}
