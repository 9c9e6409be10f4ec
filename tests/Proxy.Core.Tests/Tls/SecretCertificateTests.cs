using System.Security.Cryptography.X509Certificates;
using Proxy.Configuration;
using Proxy.Tls;

namespace Proxy.Tests.Tls;

/// <summary>
/// Certificates and CA bundles held in memory by the certificate store (secrets from a management server), and the
/// subject alt name check that stands in for the host name check.
/// </summary>
public sealed class SecretCertificateTests : IDisposable
{
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    [Fact]
    public void SecretCertificate_RotatesInPlace_SameSourceNewCertificate_AndBadPemKeepsTheOld()
    {
        using var store = new CertificateStore(Timeout.InfiniteTimeSpan);
        var one = _pki.Issue("one", "spiffe://test/one");
        var two = _pki.Issue("two", "spiffe://test/two");
        Assert.Null(store.SecretCertificate("sds:default"));

        store.SetSecretCertificate("sds:default", File.ReadAllText(one.Cert), File.ReadAllText(one.Key));
        var source = store.SecretCertificate("sds:default")!;
        Assert.Equal("spiffe://test/one", source.Current.SpiffeId?.Value);
        Assert.Equal("secret 'sds:default'", source.CertPath);

        store.SetSecretCertificate("sds:default", File.ReadAllText(two.Cert), File.ReadAllText(two.Key));
        Assert.Same(source, store.SecretCertificate("sds:default")); // the policies holding it see the new one
        Assert.Equal(("spiffe://test/two", 2), (source.Current.SpiffeId?.Value, source.Current.Version));

        var error = Assert.Throws<UnusableFileException>(() => store.SetSecretCertificate("sds:default", "nonsense", File.ReadAllText(two.Key)));
        Assert.Contains("secret 'sds:default' (certificate_chain)", error.Message);
        Assert.Equal("spiffe://test/two", source.Current.SpiffeId?.Value);

        store.SetSecretBundle("sds:ROOTCA", File.ReadAllText(_pki.CaBundle));
        Assert.Single(store.SecretBundle("sds:ROOTCA")!.Roots);
        store.RetainSecrets(name => name == "sds:ROOTCA");
        Assert.Null(store.SecretCertificate("sds:default"));
        Assert.NotNull(store.SecretBundle("sds:ROOTCA"));
    }

    [Theory]
    [InlineData(SubjectAltNameType.Uri, SubjectAltNameMatchKind.Exact, "spiffe://test/ns/shop/sa/api", false, true)]
    [InlineData(SubjectAltNameType.Uri, SubjectAltNameMatchKind.Prefix, "spiffe://test/ns/shop/", false, true)]
    [InlineData(SubjectAltNameType.Dns, SubjectAltNameMatchKind.Exact, "spiffe://test/ns/shop/sa/api", false, false)]
    [InlineData(SubjectAltNameType.Dns, SubjectAltNameMatchKind.Suffix, ".SHOP.test", true, true)]
    [InlineData(SubjectAltNameType.Dns, SubjectAltNameMatchKind.Suffix, ".SHOP.test", false, false)]
    [InlineData(SubjectAltNameType.Any, SubjectAltNameMatchKind.Contains, "api.shop", false, true)]
    [InlineData(SubjectAltNameType.Any, SubjectAltNameMatchKind.Exact, "spiffe://test/ns/other/sa/api", false, false)]
    public void SubjectAltNames_MatchByTypeAndKind(SubjectAltNameType type, SubjectAltNameMatchKind kind, string value, bool ignoreCase, bool matches)
    {
        var (cert, key) = _pki.Issue("api", "spiffe://test/ns/shop/sa/api", "api.shop.test");
        using var certificate = X509Certificate2.CreateFromPemFile(cert, key);
        var matcher = new SubjectAltNameMatchConfig { Type = type, Kind = kind, Value = value, IgnoreCase = ignoreCase };
        Assert.Equal(matches, SubjectAltNames.Match(certificate, [matcher]));
    }
}
