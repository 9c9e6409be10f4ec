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

    public void Dispose()
    {
        Ca.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
