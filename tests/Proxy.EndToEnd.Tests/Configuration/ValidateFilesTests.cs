using Proxy.Host.Cli;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Configuration;

/// <summary>
/// <c>proxy validate</c> and <c>proxy run</c> check the files the configuration names, report every
/// error of a listener at once, and accept a single value where a list is expected.
/// </summary>
public sealed class ValidateFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-validate-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir, "proxy.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private string EdgeConfig(string cert, string key, string accessLog) => $$"""
        admin: { address: 127.0.0.1:0 }
        log: { access_log: {{accessLog}} }
        listeners:
          - name: web
            address: 127.0.0.1:0
            tls:
              certificates:
                - cert: {{cert}}
                  key: {{key}}
            routes: [ { cluster: api } ]
        clusters:
          - { name: api, endpoints: [ 127.0.0.1:9 ] }
        """;

    [Fact]
    public async Task Validate_MissingCertMismatchedKeyMissingLogDirectory_EachWithLocationAndReason()
    {
        using var ca = CertificateAuthority.Create("validate CA", TimeSpan.FromDays(1));
        using (var other = ca.IssueServer(["other.test"], TimeSpan.FromHours(1)))
        {
            other.Save(Path.Combine(_dir, "other"));
        }

        var missing = Path.Combine(_dir, "web", "cert.pem");
        var path = Write(EdgeConfig(missing, Path.Combine(_dir, "other", "key.pem"), "logs/access.log"));
        var stderr = new StringWriter();

        var exit = await CommandLine.RunAsync(["validate", "--config", path], new StringWriter(), stderr);

        Assert.Equal(1, exit);
        var text = stderr.ToString();
        Assert.Contains($"{path}:2:", text);
        Assert.Contains($"log.access_log: the directory of the access log, {Path.Combine(_dir, "logs")}, does not exist", text);
        Assert.Contains($"{path}:8:", text);
        Assert.Contains($"listeners[0].tls.certificates[0].cert: the certificate file {missing} does not exist", text);
        Assert.Contains("2 error(s)", text);

        // With the certificate present, the key of another one is named as such.
        var cert = Path.Combine(_dir, "web", "cert.pem");
        using (var web = ca.IssueServer(["web.test"], TimeSpan.FromHours(1)))
        {
            web.Save(Path.Combine(_dir, "web"));
        }

        Directory.CreateDirectory(Path.Combine(_dir, "logs"));
        stderr = new StringWriter();
        Assert.Equal(1, await CommandLine.RunAsync(["validate", "--config", path], new StringWriter(), stderr));
        Assert.Contains($"{path}:9:", stderr.ToString());
        Assert.Contains($"listeners[0].tls.certificates[0].key: the private key in {Path.Combine(_dir, "other", "key.pem")} does not match the certificate {cert}", stderr.ToString());
    }

    [Fact]
    public async Task Validate_MissingConfigFile_NamesTheFileWithoutALineNumber()
    {
        // A problem with the file as a whole has no line: "file: message", not "file:0:0: message".
        var missing = Path.Combine(Path.GetTempPath(), $"proxy-missing-{Guid.NewGuid():N}.yaml");
        var stderr = new StringWriter();
        Assert.Equal(1, await CommandLine.RunAsync(["validate", "--config", missing], new StringWriter(), stderr));
        Assert.Contains($"{missing}: the configuration file {missing} does not exist; check the path", stderr.ToString());
        Assert.DoesNotContain(":0:0", stderr.ToString());
    }

    [Fact]
    public async Task Run_MissingKey_RefusesToStartWithTheSameMessage()
    {
        using var ca = CertificateAuthority.Create("run CA", TimeSpan.FromDays(1));
        using (var web = ca.IssueServer(["web.test"], TimeSpan.FromHours(1)))
        {
            web.Save(Path.Combine(_dir, "web"));
        }

        var key = Path.Combine(_dir, "web", "nokey.pem");
        var path = Write(EdgeConfig(Path.Combine(_dir, "web", "cert.pem"), key, "none"));
        var stderr = new StringWriter();

        var exit = await CommandLine.RunAsync(["run", "--config", path], new StringWriter(), stderr);

        Assert.Equal(1, exit);
        Assert.Contains($"{path}:9:", stderr.ToString());
        Assert.Contains($"listeners[0].tls.certificates[0].key: the private key file {key} does not exist; check the path", stderr.ToString());
        Assert.Contains("not starting", stderr.ToString());
    }

    [Fact]
    public async Task Validate_AddressWithoutPort_SameListenersOtherErrorsStillReported()
    {
        var path = Write("""
            listeners:
              - name: web
                address: 127.0.0.1
                idle_timeout: soon
                routes: [ { cluster: api, timeout: never } ]
                limits: { max_header_bytes: huge }
            clusters:
              - { name: api, endpoints: [ 127.0.0.1:9 ] }
            """);
        var stderr = new StringWriter();

        Assert.Equal(1, await CommandLine.RunAsync(["validate", "--config", path], new StringWriter(), stderr));

        var text = stderr.ToString();
        Assert.Contains("listeners[0].address: '127.0.0.1' has no port", text);
        Assert.Contains("listeners[0].idle_timeout:", text);
        Assert.Contains("listeners[0].routes[0].timeout:", text);
        Assert.Contains("listeners[0].limits.max_header_bytes:", text);
        Assert.Contains("4 error(s)", text);
    }

    [Fact]
    public async Task Validate_SingleEndpointScalar_Valid()
    {
        var path = Write("""
            listeners:
              - { name: t, address: 127.0.0.1:26000, protocol: tcp, cluster: c }
            clusters:
              - name: c
                endpoints: 127.0.0.1:26001
            """);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        Assert.Equal(0, await CommandLine.RunAsync(["validate", "--config", path], stdout, stderr));
        Assert.Contains("valid", stdout.ToString());
    }
}
