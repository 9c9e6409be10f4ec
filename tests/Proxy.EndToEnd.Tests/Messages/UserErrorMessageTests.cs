using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Messages;

/// <summary>
/// What the published binary prints for mistakes a user makes: a sentence naming the file or address and the fix,
/// never a .NET resource key (the binary is built with UseSystemResourceKeys, so the runtime's own texts are keys
/// such as IO_FileNotFound_FileName).
/// </summary>
public sealed partial class UserErrorMessageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-msgs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task Run_MissingCertificateFile_NamesTheFileAndTheFix()
    {
        var missing = Path.Combine(_dir, "missing.pem");
        var (_, key) = Issue("server");

        var stderr = await RunExpectingFailureAsync(ListenerTls(missing, key));

        AssertSentence(stderr, missing, "does not exist", "check the path");
    }

    [SkippableFact]
    public async Task Run_CertificateFileNotPem_SaysItIsNotPem()
    {
        var notPem = Path.Combine(_dir, "cert.txt");
        await File.WriteAllTextAsync(notPem, "this is not a certificate\n");
        var (_, key) = Issue("server");

        var stderr = await RunExpectingFailureAsync(ListenerTls(notPem, key));

        AssertSentence(stderr, notPem, "is not a PEM file", "BEGIN CERTIFICATE");
    }

    [SkippableFact]
    public async Task Run_KeyOfAnotherCertificate_SaysTheyDoNotMatch()
    {
        var (cert, _) = Issue("a");
        var (_, otherKey) = Issue("b");

        var stderr = await RunExpectingFailureAsync(ListenerTls(cert, otherKey));

        AssertSentence(stderr, otherKey, "does not match the certificate", cert);
    }

    [SkippableFact]
    public async Task Run_KeyFileHoldsACertificate_SaysSo()
    {
        var (cert, _) = Issue("a");

        var stderr = await RunExpectingFailureAsync(ListenerTls(cert, cert));

        AssertSentence(stderr, cert, "holds a certificate but no private key");
    }

    [SkippableFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Run_UnreadableCaBundle_SaysPermissionDenied()
    {
        Skip.If(Environment.UserName == "root", "root reads every file");
        var (cert, key) = Issue("server");
        var ca = Path.Combine(_dir, "ca", "ca.pem");
        File.SetUnixFileMode(ca, UnixFileMode.None);

        var stderr = await RunExpectingFailureAsync(ListenerTls(cert, key, clientCa: ca));

        AssertSentence(stderr, ca, "permission denied");
    }

    [SkippableFact]
    public async Task Run_AdminAddressHeldByAnotherSocket_NamesTheAdminServerAndAddress()
    {
        using var holder = HoldPort(out var port);
        var config = $$"""
            admin: { address: 127.0.0.1:{{port}} }
            listeners:
              - { name: t, address: 127.0.0.1:{{TcpClientHelpers.UnusedPort()}}, protocol: tcp, cluster: c }
            clusters:
              - { name: c, endpoints: [ 127.0.0.1:9 ] }
            """;

        var stderr = await RunExpectingFailureAsync(config);

        AssertSentence(stderr, $"127.0.0.1:{port}", "admin server", "already uses that address");
    }

    [SkippableFact]
    public async Task Run_ListenerAddressHeldByAnotherSocket_NamesTheListenerAndAddress()
    {
        using var holder = HoldPort(out var port);
        var config = $$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - { name: held, address: 127.0.0.1:{{port}}, protocol: tcp, cluster: c }
            clusters:
              - { name: c, endpoints: [ 127.0.0.1:9 ] }
            """;

        var stderr = await RunExpectingFailureAsync(config);

        AssertSentence(stderr, $"127.0.0.1:{port}", "listener held", "already uses that address");
    }

    [SkippableFact]
    public async Task Validate_MissingConfigFile_NamesTheFile()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: publish the binary first");
        var missing = Path.Combine(_dir, "nope.yaml");

        var (exit, _, stderr) = await BinaryCommand.RunAsync(["validate", "--config", missing]);

        Assert.Equal(1, exit);
        AssertSentence(stderr, missing, "does not exist");
    }

    [SkippableFact]
    public async Task Uptime_CountsFromProcessStart_NotFromTheFirstScrape()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: publish the binary first");
        var admin = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{admin}} }
            listeners:
              - { name: t, address: 127.0.0.1:{{TcpClientHelpers.UnusedPort()}}, protocol: tcp, cluster: c }
            clusters:
              - { name: c, endpoints: [ 127.0.0.1:9 ] }
            """, admin);
        await Task.Delay(TimeSpan.FromSeconds(2));

        // The first scrape of the process: the uptime already covers the two seconds above.
        Assert.True(await proxy.MetricAsync("proxy_uptime_seconds") >= 1.9);
    }

    private (string Cert, string Key) Issue(string name)
    {
        var caDir = Path.Combine(_dir, "ca");
        if (!Directory.Exists(caDir))
        {
            using var ca = CertificateAuthority.Create("messages CA", TimeSpan.FromDays(1));
            ca.Save(caDir);
        }

        using var authority = CertificateAuthority.Load(caDir);
        using var workload = authority.Issue(SpiffeId.Parse($"spiffe://msgs.test/{name}"), TimeSpan.FromHours(1), ["server.test"]);
        workload.Save(Path.Combine(_dir, name));
        return (Path.Combine(_dir, name, "cert.pem"), Path.Combine(_dir, name, "key.pem"));
    }

    private static string ListenerTls(string cert, string key, string? clientCa = null) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            tls:
              certificates: [ { cert: {{cert}}, key: {{key}} } ]
              {{(clientCa is null ? "" : $"client_ca: {clientCa}")}}
            routes: [ { match: { path_prefix: / }, cluster: app } ]
        clusters:
          - { name: app, endpoints: [ 127.0.0.1:9 ] }
        """;

    /// <summary>A listening socket without SO_REUSEADDR/SO_REUSEPORT, as another program would hold the port.</summary>
    private static Socket HoldPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    private async Task<string> RunExpectingFailureAsync(string yaml)
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: publish the binary first");
        var config = Path.Combine(_dir, "proxy.yaml");
        await File.WriteAllTextAsync(config, yaml);
        var (exit, _, stderr) = await BinaryCommand.RunAsync(["run", "--config", config]);
        Assert.True(exit == 1, $"exit {exit}, stderr: {stderr}");
        return stderr;
    }

    /// <summary>
    /// The output names <paramref name="subject"/> and says each of <paramref name="phrases"/>, and nothing in it
    /// (paths aside, which may hold anything) looks like a resource key: words joined by underscores.
    /// </summary>
    private void AssertSentence(string output, string subject, params string[] phrases)
    {
        Assert.Contains(subject, output);
        foreach (var phrase in phrases)
        {
            Assert.Contains(phrase, output);
        }

        var withoutPaths = output.Replace(_dir, "DIR");
        Assert.False(ResourceKey().IsMatch(withoutPaths), $"a resource key in: {output}");
    }

    [GeneratedRegex(@"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b")]
    private static partial Regex ResourceKey();
}
