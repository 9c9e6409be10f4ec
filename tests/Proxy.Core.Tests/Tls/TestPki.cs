using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Proxy.Tls;

namespace Proxy.Tests.Tls;

/// <summary>A throwaway CA and workload certificates written to a temporary directory.</summary>
internal sealed class TestPki : IDisposable
{
    public TestPki()
    {
        Directory = Path.Combine(Path.GetTempPath(), "proxy-pki-" + Guid.NewGuid().ToString("N"));
        Ca = CertificateAuthority.Create("test mesh CA", TimeSpan.FromDays(1));
        Ca.Save(Path.Combine(Directory, "ca"));
    }

    public string Directory { get; }

    public CertificateAuthority Ca { get; }

    public string CaBundle => Path.Combine(Directory, "ca", CertificateAuthority.CaFile);

    /// <summary>Issues a certificate into DIR/name and returns (cert, key) paths.</summary>
    public (string Cert, string Key) Issue(string name, string spiffeId, params string[] dnsNames)
    {
        var dir = Path.Combine(Directory, name);
        using var workload = Ca.Issue(SpiffeId.Parse(spiffeId), TimeSpan.FromHours(1), dnsNames);
        workload.Save(dir);
        return (Path.Combine(dir, CertificateAuthority.CertFile), Path.Combine(dir, CertificateAuthority.KeyFile));
    }

    /// <summary>Issues a certificate whose extended key usage allows serverAuth only (no clientAuth) into DIR/name.</summary>
    public (string Cert, string Key) IssueServerAuthOnly(string name, string spiffeId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(spiffeId));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Ca.Certificate, true, false));
        var now = DateTimeOffset.UtcNow;
        using var signed = request.Create(Ca.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(Ca.Key), now.AddMinutes(-5), now.AddHours(1), [1, 2, 3, 4]);
        var dir = System.IO.Directory.CreateDirectory(Path.Combine(Directory, name)).FullName;
        File.WriteAllText(Path.Combine(dir, CertificateAuthority.CertFile), signed.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, CertificateAuthority.KeyFile), key.ExportPkcs8PrivateKeyPem() + "\n");
        return (Path.Combine(dir, CertificateAuthority.CertFile), Path.Combine(dir, CertificateAuthority.KeyFile));
    }

    public void Dispose()
    {
        Ca.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
