using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Host;
using Proxy.Host.Cli;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Cli;

/// <summary>The command line as a new user meets it: --help everywhere, edge certificates, the version's commit.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("usage: proxy run ", "run", "--help")]
    [InlineData("usage: proxy run ", "run", "--config", "x.yaml", "-h")]
    [InlineData("usage: proxy validate ", "validate", "--help")]
    [InlineData("usage: proxy demo ", "demo", "--help")]
    [InlineData("usage: proxy version", "version", "--help")]
    [InlineData("usage: proxy init ", "init", "--help")]
    [InlineData("usage: proxy wait-ready ", "wait-ready", "--help")]
    [InlineData("usage: proxy certs ca --out DIR", "certs", "--help")]
    [InlineData("Makes a root CA", "certs", "ca", "--help")]
    [InlineData("With --dns alone: an edge certificate", "certs", "issue", "--help")]
    [InlineData("With --dns alone: an edge certificate", "help", "certs", "issue")]
    [InlineData("proxy COMMAND --help describes a command", "--help")]
    public async Task Help_EveryCommandAndSubcommand_PrintsUsageAndExitsZero(string expected, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await CommandLine.RunAsync(args, stdout, stderr);

        Assert.Equal(0, exit);
        Assert.Contains(expected, stdout.ToString());
        Assert.Equal("", stderr.ToString());
    }

    [Fact]
    public async Task Validate_BareFileName_TakenAsTheConfig()
    {
        var file = Path.Combine(_dir, "proxy.yaml");
        File.WriteAllText(file, "listeners:\n  - { name: t, address: 127.0.0.1:0, protocol: tcp, cluster: c }\nclusters:\n  - { name: c, endpoints: [ 127.0.0.1:9 ] }\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        Assert.Equal(0, await CommandLine.RunAsync(["validate", file], stdout, stderr));
        Assert.Contains("proxy.yaml: valid", stdout.ToString());

        Assert.Equal(2, await CommandLine.RunAsync(["validate", file, "other.yaml"], new StringWriter(), stderr));
        Assert.Contains("unexpected argument 'other.yaml'; give one config file", stderr.ToString());
    }

    [Fact]
    public async Task Certs_UnknownSubcommand_NamesItAndPointsToHelp()
    {
        var stderr = new StringWriter();

        Assert.Equal(2, await CommandLine.RunAsync(["certs", "make"], new StringWriter(), stderr));
        Assert.Contains("unknown subcommand 'make'; expected 'ca' or 'issue' (proxy certs --help describes them)", stderr.ToString());
    }

    [Fact]
    public async Task CertsIssue_DnsAlone_EdgeCertificateAListenerServesToAVerifyingClient()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var ca = Path.Combine(_dir, "ca");
        var web = Path.Combine(_dir, "web");
        Assert.Equal(0, await CommandLine.RunAsync(["certs", "ca", "--out", ca], stdout, stderr));
        Assert.Equal(0, await CommandLine.RunAsync(["certs", "issue", "--ca", ca, "--out", web, "--dns", "web.test,www.web.test"], stdout, stderr));
        Assert.Contains("for DNS web.test, www.web.test", stdout.ToString());

        using var issued = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(web, "cert.pem")));
        Assert.Equal("CN=web.test", issued.Subject);
        Assert.Null(SpiffeId.FromCertificate(issued));
        var usage = Assert.Single(issued.Extensions.OfType<X509EnhancedKeyUsageExtension>());
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], usage.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));

        await using var upstream = await KestrelUpstream.StartAsync("app");
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                tls: { certificates: { cert: {{web}}/cert.pem, key: {{web}}/key.pem } }
                routes: { cluster: app }
            clusters:
              - { name: app, endpoints: {{upstream.Address}} }
            """);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(Path.Combine(ca, "ca.pem"));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "www.web.test",
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { roots[0] }, RevocationMode = X509RevocationMode.NoCheck },
        });
        Assert.True(tls.IsAuthenticated);
    }

    [Fact]
    public async Task CertsIssue_NeitherSpiffeIdNorDns_ExplainsAndExits2()
    {
        var stderr = new StringWriter();
        await CommandLine.RunAsync(["certs", "ca", "--out", Path.Combine(_dir, "ca")], new StringWriter(), new StringWriter());

        Assert.Equal(2, await CommandLine.RunAsync(["certs", "issue", "--ca", Path.Combine(_dir, "ca"), "--out", Path.Combine(_dir, "x")], new StringWriter(), stderr));
        Assert.Contains("--spiffe-id ID (a mesh workload) or --dns NAME (an edge certificate)", stderr.ToString());
    }

    [Fact]
    public async Task Version_NamesTheCommitItWasBuiltFrom()
    {
        var stdout = new StringWriter();

        Assert.Equal(0, await CommandLine.RunAsync(["version"], stdout, new StringWriter()));

        var line = stdout.ToString().Trim();
        Assert.Equal(BuildInfo.Describe(), line);
        Assert.Matches(new Regex(@"^proxy \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}(-dirty)?|unknown)\)$"), line);
        if (GitHead() is not null)
        {
            // Built inside a git checkout: the commit was found, not defaulted.
            Assert.Matches(new Regex(@"\(commit [0-9a-f]{12}(-dirty)?\)$"), line);
        }
    }

    [SkippableFact]
    public async Task Binary_VersionAndHelp()
    {
        var binary = BinaryProxy.Path;
        Skip.If(binary is null, "PROXY_BINARY not set");
        var (exit, output) = await RunAsync(binary, "version");
        Assert.Equal(0, exit);
        Assert.Matches(new Regex(@"^proxy \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)$"), output.Trim());
        Assert.DoesNotContain("unknown", GitHead() is null ? "" : output);

        (exit, output) = await RunAsync(binary, "certs", "issue", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("usage: proxy certs issue", output);
    }

    private static async Task<(int Exit, string Stdout)> RunAsync(string binary, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(binary, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    private static string? GitHead()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", ["rev-parse", "HEAD"]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory })!;
            var head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? head : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
