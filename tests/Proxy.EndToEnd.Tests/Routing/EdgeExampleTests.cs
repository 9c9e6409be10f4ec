using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Host.Cli;

namespace Proxy.EndToEnd.Tests.Routing;

/// <summary>
/// The worked example of docs/configuration.md ("An edge in front of two services"), docs/examples/edge.yaml, run as
/// written but for its addresses and certificate folder: an HTTP-to-HTTPS redirect, a /v1 to /api/v1 rewrite, a
/// maintenance direct response and a canary chosen by query parameter, through real clients and upstreams.
/// </summary>
public sealed class EdgeExampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-edge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Docs_ShowTheExampleFileAsItIs()
    {
        var file = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "examples", "edge.yaml")).TrimEnd();
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "configuration.md"));

        Assert.Contains("```yaml\n" + file + "\n```", docs);
    }

    [Fact]
    public async Task EdgeExample_RedirectRewriteMaintenanceCanary()
    {
        // As the file's comment says: a CA, and an edge certificate for edge.example.com.
        var ca = Path.Combine(_dir, "certs", "ca");
        Assert.Equal(0, await CommandLine.RunAsync(["certs", "ca", "--out", ca], TextWriter.Null, TextWriter.Null));
        Assert.Equal(0, await CommandLine.RunAsync(["certs", "issue", "--ca", ca, "--out", Path.Combine(_dir, "certs", "edge"), "--dns", "edge.example.com"], TextWriter.Null, TextWriter.Null));
        await using var api = await KestrelUpstream.StartAsync("api");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var canary = await KestrelUpstream.StartAsync("web-canary");

        var yaml = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "examples", "edge.yaml"));
        foreach (var (from, to) in new[]
        {
            ("127.0.0.1:15000", "127.0.0.1:0"), ("0.0.0.0:8080", "127.0.0.1:0"), ("0.0.0.0:8443", "127.0.0.1:0"),
            ("certs/edge/", Path.Combine(_dir, "certs", "edge") + "/"),
            ("127.0.0.1:9001", api.Address), ("127.0.0.1:9002", web.Address), ("127.0.0.1:9003", canary.Address),
        })
        {
            Assert.Contains(from, yaml); // the example still says what this test replaces
            yaml = yaml.Replace(from, to, StringComparison.Ordinal);
        }

        await using var proxy = await RunningProxy.StartAsync(yaml);

        // Plain HTTP: a 308 to the same path on https, port 8443.
        using (var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{proxy.Listener("http")}/shop/cart?item=7");
            request.Headers.Host = "edge.example.com:8080";
            using var response = await plain.SendAsync(request);
            Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
            Assert.Equal("https://edge.example.com:8443/shop/cart?item=7", response.Headers.Location?.ToString());
        }

        using var https = HttpsClient(Path.Combine(ca, "ca.pem"));
        var origin = $"https://{proxy.Listener("https")}";

        // Maintenance: answered by the proxy, with the listener's response header.
        using (var billing = await https.GetAsync(origin + "/billing/invoices"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, billing.StatusCode);
            Assert.Equal("Billing is closed for maintenance until 14:00 UTC.\n", await billing.Content.ReadAsStringAsync());
        }

        // /v1 clients reach the api's /api/v1, with the route's field; the upstream names itself.
        using (var v1 = await https.GetAsync(origin + "/v1/orders?page=2"))
        {
            var body = await v1.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, v1.StatusCode);
            Assert.Equal("api", v1.Headers.GetValues("x-upstream").Single());
            Assert.Contains("target: /api/v1/orders?page=2\n", body);
            Assert.Contains("x-api-client: legacy-v1", body);
            Assert.Contains("x-envoy-original-path: /v1/orders?page=2", body);
            Assert.Equal("max-age=31536000", v1.Headers.GetValues("strict-transport-security").Single());
        }

        // ?canary=1 picks the canary; anything else the stable web.
        using (var chosen = await https.GetAsync(origin + "/hello?canary=1"))
        {
            Assert.Equal("hello from web-canary", await chosen.Content.ReadAsStringAsync());
        }

        using (var stable = await https.GetAsync(origin + "/hello?canary=0"))
        {
            Assert.Equal("hello from web", await stable.Content.ReadAsStringAsync());
        }
    }

    /// <summary>An HTTPS client that trusts only the example's CA (the certificate names edge.example.com, not 127.0.0.1).</summary>
    private static HttpClient HttpsClient(string caFile)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caFile);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is null)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(roots[0]);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate)) && new X509Certificate2(certificate).MatchesHostname("edge.example.com");
                },
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Proxy.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (the folder with Proxy.sln) is not above the test binaries.");
    }
}
