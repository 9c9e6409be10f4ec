using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Proxy.EndToEnd.Tests.Http;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>
/// Upstream failures reach the process log with their reason: a wrong CA, a wrong name, a name that does not resolve,
/// a refused connect, health-check changes and outlier ejections; repeated failures are rate-limited.
/// </summary>
public sealed class UpstreamFailureLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-upstream-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Tls_UpstreamCertificateFromAnotherCa_LogsUntrustedRoot()
    {
        var (cert, key) = Issue("upstream-ca", "upstream", "upstream.test");
        var otherCa = CaBundle("other-ca");
        await using var app = await StartHttpsUpstreamAsync(cert, key);
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"127.0.0.1:{PortOf(app)}",
            clusterExtra: $"    tls: {{ sni: upstream.test, ca: {otherCa} }}"));

        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(proxy));

        var line = await LogLineAsync(proxy, "upstream TLS handshake failed");
        Assert.Contains("cluster=backend", line);
        Assert.Contains($"endpoint=127.0.0.1:{PortOf(app)}", line);
        Assert.Contains("untrusted root", line);
        Assert.Contains("tls.ca", line);
    }

    [Fact]
    public async Task Tls_UpstreamCertificateForAnotherName_LogsNameMismatch()
    {
        var (cert, key) = Issue("ca", "upstream", "upstream.test");
        await using var app = await StartHttpsUpstreamAsync(cert, key);
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"127.0.0.1:{PortOf(app)}",
            clusterExtra: $"    tls: {{ sni: other.test, ca: {CaBundle("ca")} }}"));

        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(proxy));

        var line = await LogLineAsync(proxy, "upstream TLS handshake failed");
        Assert.Contains("not valid for the name other.test", line);
        Assert.Contains("upstream.test", line); // the names it does have
    }

    [Fact]
    public async Task Connect_NameDoesNotResolve_LogsDns()
    {
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single("no-such-host.invalid:80"));

        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(proxy));

        var line = await LogLineAsync(proxy, "upstream connect failed");
        Assert.Contains("endpoint=no-such-host.invalid:80", line);
        Assert.Contains("DNS", line);
    }

    [Fact]
    public async Task Connect_RefusedManyTimes_LogsOnceWithinTheWindow()
    {
        var port = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"127.0.0.1:{port}"));

        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(proxy));
        }

        var line = await LogLineAsync(proxy, "upstream connect failed");
        Assert.Contains("connection refused", line);
        await Task.Delay(300); // the logger writes in the background: let any further line arrive
        Assert.Single(Lines(proxy, "upstream connect failed"));
    }

    [Fact]
    public async Task HealthCheck_EndpointTurnsUnhealthyAndBack_LogsBothChanges()
    {
        await using var sick = await KestrelUpstream.StartAsync("sick");
        await using var good = await KestrelUpstream.StartAsync("good");
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"{good.Address}, {sick.Address}",
            clusterExtra: "    health_check: { type: http, path: /health, interval: 100ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 2 }"));

        sick.Healthy = false;
        var down = await LogLineAsync(proxy, "upstream endpoint unhealthy");
        Assert.Contains($"endpoint={sick.Address}", down);
        Assert.Contains("2 health checks failed in a row", down);

        sick.Healthy = true;
        var up = await LogLineAsync(proxy, "upstream endpoint healthy again");
        Assert.Contains($"endpoint={sick.Address}", up);
    }

    [Fact]
    public async Task OutlierDetection_Ejection_LogsTheReason()
    {
        await using var good = await KestrelUpstream.StartAsync("good");
        await using var bad = await KestrelUpstream.StartAsync("bad");
        bad.FailAll = true;
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single($"{good.Address}, {bad.Address}",
            clusterExtra: "    outlier_detection: { consecutive_5xx: 3, base_ejection_time: 30s, max_ejection_percent: 50, interval: 1s }"));

        for (var i = 0; i < 6; i++)
        {
            await StatusAsync(proxy);
        }

        var line = await LogLineAsync(proxy, "upstream endpoint ejected");
        Assert.Contains($"endpoint={bad.Address}", line);
        Assert.Contains("3 5xx responses in a row", line);
        Assert.Contains("for_ms=30000", line);
    }

    private static async Task<HttpStatusCode> StatusAsync(RunningProxy proxy)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync($"http://{proxy.Listener("web")}/hello");
        return response.StatusCode;
    }

    private static string[] Lines(RunningProxy proxy, string message) =>
        proxy.Log.ToString().Split('\n').Where(l => l.Contains(message, StringComparison.Ordinal)).ToArray();

    /// <summary>The first log line with <paramref name="message"/>, waiting (bounded) for the background writer.</summary>
    private static async Task<string> LogLineAsync(RunningProxy proxy, string message)
    {
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(Lines(proxy, message).Length > 0)), $"no '{message}' line in: {proxy.Log}");
        return Lines(proxy, message)[0];
    }

    private static int PortOf(WebApplication app) => new Uri(app.Urls.First()).Port;

    private string CaBundle(string ca)
    {
        EnsureCa(ca).Dispose();
        return Path.Combine(_dir, ca, "ca.pem");
    }

    private CertificateAuthority EnsureCa(string ca)
    {
        var dir = Path.Combine(_dir, ca);
        if (!Directory.Exists(dir))
        {
            using var created = CertificateAuthority.Create(ca, TimeSpan.FromDays(1));
            created.Save(dir);
        }

        return CertificateAuthority.Load(dir);
    }

    private (string Cert, string Key) Issue(string ca, string name, string dns)
    {
        using var authority = EnsureCa(ca);
        using var workload = authority.Issue(SpiffeId.Parse($"spiffe://log.test/{name}"), TimeSpan.FromHours(1), [dns]);
        workload.Save(Path.Combine(_dir, name));
        return (Path.Combine(_dir, name, "cert.pem"), Path.Combine(_dir, name, "key.pem"));
    }

    private static async Task<WebApplication> StartHttpsUpstreamAsync(string cert, string key)
    {
        var certificate = X509Certificate2.CreateFromPemFile(cert, key);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
        var app = builder.Build();
        app.MapGet("/hello", () => "hello");
        await app.StartAsync();
        return app;
    }
}
