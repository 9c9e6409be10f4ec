using Proxy.Configuration;
using Proxy.Tests.Tls;

namespace Proxy.Tests.Configuration;

/// <summary>
/// With <see cref="ConfigValidationOptions.CheckFiles"/> (validate, start, reload), the files the
/// configuration names are read and parsed, each problem an error at its key with the path and the reason.
/// </summary>
public sealed class ConfigFileCheckTests : IDisposable
{
    private readonly TestPki _pki = new();

    private ConfigLoadResult Load(string yaml)
    {
        string path = Path.Combine(_pki.Directory, "proxy.yaml");
        File.WriteAllText(path, yaml);
        return ConfigLoader.LoadFile(path, ConfigValidationOptions.ForRunning);
    }

    private static string EdgeListener(string cert, string key, string clientCa = "") => $$"""
        listeners:
          - name: web
            address: 127.0.0.1:8443
            tls:
              certificates: [ { cert: {{cert}}, key: {{key}} } ]
        {{(clientCa.Length > 0 ? "      client_ca: " + clientCa : "")}}
            routes: [ { cluster: api } ]
        clusters:
          - { name: api, endpoints: [ 10.0.0.5:9000 ] }
        """;

    private static ConfigError Single(ConfigLoadResult result, string path)
    {
        string all = string.Join("\n", result.Errors);
        Assert.False(result.Success, "expected an error at " + path);
        var error = result.Errors.FirstOrDefault(e => e.Path == path);
        Assert.True(error is not null, $"no error at {path} in:\n{all}");
        Assert.True(result.Errors.Count == 1, "expected one error:\n" + all);
        return error;
    }

    [Fact]
    public void GoodCertificateKeyAndCa_Valid()
    {
        var (cert, key) = _pki.Issue("web", "spiffe://mesh.local/ns/a/sa/web", "web.local");

        var result = Load(EdgeListener(cert, key, _pki.CaBundle));

        Assert.True(result.Success, string.Join("\n", result.Errors));
    }

    [Fact]
    public void MissingCertificate_ErrorNamesPathAndLine()
    {
        var (_, key) = _pki.Issue("web", "spiffe://mesh.local/ns/a/sa/web");
        string missing = Path.Combine(_pki.Directory, "nope.pem");

        var error = Single(Load(EdgeListener(missing, key)), "listeners[0].tls.certificates[0].cert");

        Assert.StartsWith($"the certificate file {missing} does not exist; check the path", error.Message);
        Assert.Equal(5, error.Line);
        Assert.True(error.Column > 1);
    }

    [Fact]
    public void GarbageCertificate_SaysNoPemCertificate()
    {
        var (_, key) = _pki.Issue("web", "spiffe://mesh.local/ns/a/sa/web");
        string garbage = Path.Combine(_pki.Directory, "garbage.pem");
        File.WriteAllText(garbage, "hello\n");

        var error = Single(Load(EdgeListener(garbage, key)), "listeners[0].tls.certificates[0].cert");

        Assert.Contains($"the certificate file {garbage} is not a PEM file: it has no -----BEGIN CERTIFICATE----- block", error.Message);
    }

    [Fact]
    public void CorruptCertificateBlock_SaysNotValid()
    {
        var (_, key) = _pki.Issue("web", "spiffe://mesh.local/ns/a/sa/web");
        string corrupt = Path.Combine(_pki.Directory, "corrupt.pem");
        File.WriteAllText(corrupt, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

        var error = Single(Load(EdgeListener(corrupt, key)), "listeners[0].tls.certificates[0].cert");

        Assert.Contains("is not a valid X.509 certificate", error.Message);
    }

    [Fact]
    public void CertAndKeySwapped_SaysWhichIsWhich()
    {
        var (cert, key) = _pki.Issue("web", "spiffe://mesh.local/ns/a/sa/web");

        var result = Load(EdgeListener(key, cert));

        Assert.Contains(result.Errors, e => e.Path == "listeners[0].tls.certificates[0].cert" && e.Message.Contains("holds a private key but no certificate"));
        Assert.Contains(result.Errors, e => e.Path == "listeners[0].tls.certificates[0].key" && e.Message.Contains("holds a certificate but no private key"));
    }

    [Fact]
    public void KeyOfAnotherCertificate_SaysKeyDoesNotMatch()
    {
        var (cert, _) = _pki.Issue("web", "spiffe://mesh.local/ns/a/sa/web");
        var (_, otherKey) = _pki.Issue("other", "spiffe://mesh.local/ns/a/sa/other");

        var error = Single(Load(EdgeListener(cert, otherKey)), "listeners[0].tls.certificates[0].key");

        Assert.Contains($"the private key in {otherKey} does not match the certificate {cert}", error.Message);
    }

    [Fact]
    public void CaBundleWithoutCertificate_Error()
    {
        var (cert, key) = _pki.Issue("web", "spiffe://mesh.local/ns/a/sa/web");

        var error = Single(Load(EdgeListener(cert, key, clientCa: key)), "listeners[0].tls.client_ca");

        Assert.Contains($"the CA bundle {key} holds a private key but no certificate", error.Message);
    }

    [Fact]
    public void ClusterTlsAndMeshIdentity_FilesChecked()
    {
        string missing = Path.Combine(_pki.Directory, "missing");
        var result = Load($$"""
            clusters:
              - name: api
                endpoints: [ 10.0.0.5:9000 ]
                tls: { ca: {{missing}}/ca.pem, cert: {{missing}}/c.pem, key: {{missing}}/k.pem }
            mesh:
              identity: { cert: {{missing}}/c.pem, key: {{missing}}/k.pem, ca: {{missing}}/ca.pem }
            """);

        string all = string.Join("\n", result.Errors);
        foreach (var path in new[] { "clusters[0].tls.ca", "clusters[0].tls.cert", "clusters[0].tls.key", "mesh.identity.cert", "mesh.identity.key", "mesh.identity.ca" })
        {
            Assert.True(result.Errors.Any(e => e.Path == path && e.Message.Contains("does not exist", StringComparison.Ordinal)), $"no error at {path}:\n{all}");
        }
    }

    [Fact]
    public void AccessLogInMissingDirectory_Error()
    {
        var error = Single(Load("log: { access_log: no-such-dir/access.log }"), "log.access_log");

        Assert.Contains($"the directory of the access log, {Path.Combine(_pki.Directory, "no-such-dir")}, does not exist", error.Message);
    }

    [Fact]
    public void AccessLogInExistingDirectory_ValidAndNothingLeftBehind()
    {
        var result = Load("log: { access_log: access.log }");

        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.False(File.Exists(Path.Combine(_pki.Directory, "access.log")));
        Assert.Empty(Directory.GetFiles(_pki.Directory, ".proxy-write-check-*"));
    }

    [Fact]
    public void WithoutCheckFiles_PathsAreNotOpened()
    {
        var result = ConfigLoader.LoadText("log: { access_log: no-such-dir/access.log }", Path.Combine(_pki.Directory, "x.yaml"));

        Assert.True(result.Success);
    }

    public void Dispose() => _pki.Dispose();
}
