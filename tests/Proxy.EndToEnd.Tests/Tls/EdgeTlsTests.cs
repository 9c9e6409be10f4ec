using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Tls;

/// <summary>TLS on listeners (SNI, client certificates) and to clusters, end to end with real clients and Kestrel.</summary>
public sealed class EdgeTlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-tls-e2e-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("e2e CA", TimeSpan.FromDays(1));

    public EdgeTlsTests() => _ca.Save(Path.Combine(_dir, "ca"));

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

    [Fact]
    public async Task Listener_TwoCertificates_SniPicksTheMatchingOne()
    {
        await using var upstream = await KestrelUpstream.StartAsync("app");
        var a = Issue("a", "a.test");
        var b = Issue("b", "b.test");
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                tls:
                  certificates:
                    - { cert: {{a.Cert}}, key: {{a.Key}}, sni: [ a.test ] }
                    - { cert: {{b.Cert}}, key: {{b.Key}}, sni: [ b.test ] }
                routes: [ { match: { path_prefix: / }, cluster: app } ]
            clusters:
              - { name: app, endpoints: [ {{upstream.Address}} ] }
            """);

        var (certB, responseB) = await RequestAsync(proxy.Listener("web"), "b.test", null);
        Assert.Equal("spiffe://e2e.test/b", SpiffeId.FromCertificate(certB!)?.Value);
        Assert.Contains("hello from app", responseB);
        var (certA, responseA) = await RequestAsync(proxy.Listener("web"), "a.test", null);
        Assert.Equal("spiffe://e2e.test/a", SpiffeId.FromCertificate(certA!)?.Value);
        Assert.Contains("200 OK", responseA);
    }

    [Fact]
    public async Task Listener_RequireClientCert_RefusedWithoutAcceptedWith()
    {
        await using var upstream = await KestrelUpstream.StartAsync("app");
        var server = Issue("server", "server.test");
        var client = Issue("client");
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                tls:
                  certificates: [ { cert: {{server.Cert}}, key: {{server.Key}} } ]
                  client_ca: {{CaPath}}
                  require_client_cert: true
                routes: [ { match: { path_prefix: / }, cluster: app } ]
            clusters:
              - { name: app, endpoints: [ {{upstream.Address}} ] }
            """);

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var (_, response) = await RequestAsync(proxy.Listener("web"), "server.test", null);
            Assert.Fail("answered without a client certificate: " + response);
        });
        Assert.Equal(0, upstream.Requests);

        using var clientCert = X509Certificate2.CreateFromPemFile(client.Cert, client.Key);
        var (_, accepted) = await RequestAsync(proxy.Listener("web"), "server.test", clientCert);
        Assert.Contains("hello from app", accepted);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value("proxy_tls_handshake_failures_total{listener=\"web\"}") >= 1));

        // The refusal is also said in the log, with the listener and the client, so an operator need not guess.
        Assert.True(await proxy.LoggedAsync("TLS handshake from a client failed"), proxy.Log.ToString());
        Assert.Contains("listener=web", proxy.Log.ToString());
        Assert.Contains("client=127.0.0.1:", proxy.Log.ToString());
    }

    [Fact]
    public async Task Cluster_Tls_ReachesKestrelHttpsUpstream()
    {
        var server = Issue("upstream", "upstream.test");
        await using var app = await StartHttpsUpstreamAsync(server.Cert, server.Key);
        var port = app.Urls.Select(u => new Uri(u).Port).First();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                routes: [ { match: { path_prefix: / }, cluster: secure } ]
            clusters:
              - name: secure
                endpoints: [ 127.0.0.1:{{port}} ]
                tls: { sni: upstream.test, ca: {{CaPath}} }
            """);

        using var http = new HttpClient();
        var body = await http.GetStringAsync($"http://{proxy.Listener("web")}/whoami");
        Assert.Equal("https upstream.test", body);
        body = await http.GetStringAsync($"http://{proxy.Listener("web")}/whoami");
        Assert.Equal("https upstream.test", body);

        // An HTTP/2 client's request to the same HTTP/1.1 cluster goes over TLS too.
        using var h2 = Http2.Http2ProxyTests.H2Client(proxy);
        Assert.Equal("https upstream.test", await h2.GetStringAsync("/whoami"));
    }

    /// <summary>
    /// Active health checks of a TLS cluster go over TLS with the cluster's policy. Before, they were plain text to a
    /// TLS port: every probe failed and the endpoint left rotation (503 for every request). A server that fails the
    /// cluster's verification fails the probe too.
    /// </summary>
    [Theory]
    [InlineData("upstream.test", true)]
    [InlineData("someone-else.test", false)]
    public async Task Cluster_TlsHealthCheck_ProbesOverTlsWithTheClustersPolicy(string sni, bool healthy)
    {
        var server = Issue("upstream", "upstream.test");
        await using var app = await StartHttpsUpstreamAsync(server.Cert, server.Key);
        var port = app.Urls.Select(u => new Uri(u).Port).First();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                routes: [ { match: { path_prefix: / }, cluster: secure } ]
            clusters:
              - name: secure
                endpoints: [ 127.0.0.1:{{port}} ]
                tls: { sni: {{sni}}, ca: {{CaPath}} }
                health_check: { type: http, path: /whoami, interval: 200ms, timeout: 2s, healthy_threshold: 1, unhealthy_threshold: 2 }
            """);

        var result = healthy ? "success" : "failure";
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value($"proxy_health_checks_total{{cluster=\"secure\",result=\"{result}\"}}") >= 3));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value($"proxy_health_checks_total{{cluster=\"secure\",result=\"{(healthy ? "failure" : "success")}\"}}"));
        Assert.Contains($"127.0.0.1:{port}::healthy={(healthy ? "true" : "false")}", (await proxy.Admin.GetAsync("/clusters")).Body);
        if (healthy)
        {
            using var http = new HttpClient();
            Assert.Equal("https upstream.test", await http.GetStringAsync($"http://{proxy.Listener("web")}/whoami"));
        }
    }

    /// <summary>
    /// A reload that changes a cluster's TLS settings does not leave requests on connections made under the old ones:
    /// here the new name is one the upstream's certificate does not carry, so the next request must fail its
    /// handshake (502) rather than ride the pooled connection verified for the old name.
    /// </summary>
    [Fact]
    public async Task Reload_ClusterTlsChanged_PooledConnectionsNotReused()
    {
        var server = Issue("upstream", "upstream.test");
        await using var app = await StartHttpsUpstreamAsync(server.Cert, server.Key);
        var upstreamPort = app.Urls.Select(u => new Uri(u).Port).First();
        string Config(string sni, int listenerPort) => $$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenerPort}}
                routes: [ { match: { path_prefix: / }, cluster: secure } ]
            clusters:
              - name: secure
                endpoints: [ 127.0.0.1:{{upstreamPort}} ]
                tls: { sni: {{sni}}, ca: {{CaPath}} }
            """;
        await using var proxy = await RunningProxy.StartAsync(Config("upstream.test", 0));
        using var http = new HttpClient();
        var url = $"http://{proxy.Listener("web")}/whoami";
        Assert.Equal("https upstream.test", await http.GetStringAsync(url)); // leaves a verified connection in the pool

        await proxy.RewriteConfig(Config("someone-else.test", proxy.Listener("web").Port));
        Assert.True(await proxy.Host.ReloadAsync(), proxy.Log.ToString());
        using var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Cluster_TlsWrongName_502()
    {
        var server = Issue("upstream", "upstream.test");
        await using var app = await StartHttpsUpstreamAsync(server.Cert, server.Key);
        var port = app.Urls.Select(u => new Uri(u).Port).First();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                routes: [ { match: { path_prefix: / }, cluster: secure } ]
            clusters:
              - name: secure
                endpoints: [ 127.0.0.1:{{port}} ]
                tls: { sni: other.test, ca: {{CaPath}} }
            """);

        using var http = new HttpClient();
        var response = await http.GetAsync($"http://{proxy.Listener("web")}/whoami");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    /// <summary>TLS to the listener with SNI <paramref name="host"/>, one GET /hello, the whole response.</summary>
    private static async Task<(X509Certificate2? Certificate, string Response)> RequestAsync(IPEndPoint address, string host, X509Certificate2? clientCertificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address);
        await using var ssl = new SslStream(tcp.GetStream());
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ssl.AuthenticateAsClientAsync(options, timeout.Token);
        var certificate = ssl.RemoteCertificate is null ? null : new X509Certificate2(ssl.RemoteCertificate);
        await ssl.WriteAsync(Encoding.ASCII.GetBytes($"GET /hello HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), timeout.Token);
        var response = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await ssl.ReadAsync(buffer, timeout.Token)) > 0)
        {
            response.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        if (response.Length == 0)
        {
            throw new IOException("connection closed without a response");
        }

        return (certificate, response.ToString());
    }

    private static async Task<WebApplication> StartHttpsUpstreamAsync(string cert, string key)
    {
        var certificate = X509Certificate2.CreateFromPemFile(cert, key);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        string? lastServerName = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(https =>
            https.ServerCertificateSelector = (_, name) =>
            {
                lastServerName = name;
                return certificate;
            })));
        var app = builder.Build();
        app.MapGet("/whoami", (HttpContext context) => $"{context.Request.Scheme} {lastServerName}");
        await app.StartAsync();
        return app;
    }
}
