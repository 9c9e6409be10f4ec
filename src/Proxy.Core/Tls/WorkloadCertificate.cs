using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tls;

/// <summary>A certificate issued by a <see cref="CertificateAuthority"/>, with its key and issuer, writable as PEM files.</summary>
public sealed class WorkloadCertificate(X509Certificate2 certificate, ECDsa key, X509Certificate2 issuer) : IDisposable
{
    public X509Certificate2 Certificate { get; } = certificate;

    public ECDsa Key { get; } = key;

    public X509Certificate2 Issuer { get; } = issuer;

    /// <summary>
    /// Writes cert.pem, key.pem (0600) and ca.pem into <paramref name="directory"/>, each atomically;
    /// the key is written first, so a reader that sees the new certificate also finds its key.
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        CertificateAuthority.WriteFileAtomically(Path.Combine(directory, CertificateAuthority.CaFile), Issuer.ExportCertificatePem() + "\n");
        CertificateAuthority.WriteFileAtomically(Path.Combine(directory, CertificateAuthority.KeyFile), Key.ExportPkcs8PrivateKeyPem() + "\n", privateKey: true);
        CertificateAuthority.WriteFileAtomically(Path.Combine(directory, CertificateAuthority.CertFile), Certificate.ExportCertificatePem() + "\n");
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }
}
