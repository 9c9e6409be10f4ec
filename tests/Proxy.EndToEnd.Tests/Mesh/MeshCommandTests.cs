using System.Security.Cryptography.X509Certificates;
using Proxy.Host.Cli;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Mesh;

/// <summary><c>proxy certs</c> and <c>proxy init</c> through the real command line (no root needed).</summary>
public sealed class MeshCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-cmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CertsCaThenIssue_WorkloadCertificateChainsAndCarriesSpiffeId()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, await CommandLine.RunAsync(["certs", "ca", "--out", Path.Combine(_dir, "ca")], stdout, new StringWriter()));
        Assert.Equal(0, await CommandLine.RunAsync(["certs", "issue", "--ca", Path.Combine(_dir, "ca"), "--spiffe-id", "spiffe://mesh.local/ns/shop/sa/web", "--out", Path.Combine(_dir, "web"), "--ttl", "2h"], stdout, new StringWriter()));

        using var leaf = X509Certificate2.CreateFromPemFile(Path.Combine(_dir, "web", "cert.pem"), Path.Combine(_dir, "web", "key.pem"));
        Assert.True(leaf.HasPrivateKey);
        Assert.Equal("spiffe://mesh.local/ns/shop/sa/web", SpiffeId.FromCertificate(leaf)?.Value);
        Assert.InRange(leaf.NotAfter.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromMinutes(100), TimeSpan.FromMinutes(125));
        var eku = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.Contains(eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
        Assert.Contains(eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.2");
        var bundle = new TrustBundle(Path.Combine(_dir, "web", "ca.pem"));
        foreach (var peerIsClient in new[] { true, false })
        {
            // The chain checks SslStream runs in the handshake, for either role of the workload.
            using var chain = new X509Chain { ChainPolicy = bundle.ChainPolicy(peerIsClient).Clone() };
            Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        }
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "web", "key.pem")));
        }
    }

    [Theory]
    [InlineData("spiffe://Mesh.local/x")]
    [InlineData("http://mesh.local/x")]
    public async Task CertsIssue_InvalidSpiffeId_ExitsTwo(string id)
    {
        await CommandLine.RunAsync(["certs", "ca", "--out", Path.Combine(_dir, "ca")], new StringWriter(), new StringWriter());
        var stderr = new StringWriter();
        Assert.Equal(2, await CommandLine.RunAsync(["certs", "issue", "--ca", Path.Combine(_dir, "ca"), "--spiffe-id", id, "--out", Path.Combine(_dir, "x")], new StringWriter(), stderr));
        Assert.Contains("--spiffe-id", stderr.ToString());
    }

    [Fact]
    public async Task InitDryRun_PrintsRestoreInputWithOwnChains()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, await CommandLine.RunAsync(["init", "--proxy-uid", "1337", "--exclude-inbound-ports", "22,15090", "--iptables-mode", "legacy", "--dry-run"], stdout, new StringWriter()));
        var text = stdout.ToString();
        Assert.Contains("# iptables-legacy-restore --noflush", text);
        Assert.Contains("-A PREROUTING -p tcp -j PROXY_INBOUND", text);
        Assert.Contains("--uid-owner 1337", text);
        Assert.Contains("--dport 15090", text);
        Assert.EndsWith("COMMIT\n", text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Init_WithoutProxyIdentity_ExitsTwoExplainingTheLoop()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, await CommandLine.RunAsync(["init", "--dry-run"], new StringWriter(), stderr));
        Assert.Contains("--proxy-uid", stderr.ToString());
    }

    [Fact]
    public async Task Init_BadModeAndPort_ReportsBoth()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, await CommandLine.RunAsync(["init", "--proxy-uid", "1", "--iptables-mode", "plain", "--inbound-port", "99999", "--dry-run"], new StringWriter(), stderr));
        Assert.Contains("--iptables-mode", stderr.ToString());
        Assert.Contains("99999", stderr.ToString());
    }
}
