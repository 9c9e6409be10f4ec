using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tls;

/// <summary>
/// A mesh certificate authority: an ECDSA P-256 key and self-signed certificate that issues
/// short-lived workload certificates carrying a SPIFFE URI SAN (X509-SVID specification).
/// Built on <see cref="CertificateRequest"/>, which is AOT-safe.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private CertificateAuthority(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        Key = key;
    }

    /// <summary>The CA certificate (public part).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA signing key.</summary>
    public ECDsa Key { get; }

    /// <summary>File names inside a CA or workload directory.</summary>
    public const string CertFile = "cert.pem", KeyFile = "key.pem", CaFile = "ca.pem";

    /// <summary>Makes a new root CA valid for <paramref name="lifetime"/>.</summary>
    public static CertificateAuthority Create(string commonName, TimeSpan lifetime)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + lifetime);
        return new CertificateAuthority(certificate, key);
    }

    /// <summary>Loads a CA written by <see cref="Save"/> (cert.pem and key.pem in <paramref name="directory"/>).</summary>
    public static CertificateAuthority Load(string directory)
    {
        var certPath = Path.Combine(directory, CertFile);
        var keyPath = Path.Combine(directory, KeyFile);
        var (certificate, _) = PemFiles.LoadCertificateWithKey(certPath, keyPath);
        var key = certificate.GetECDsaPrivateKey()
            ?? throw new Configuration.UnusableFileException($"the CA key {keyPath} is not an ECDSA key; make the CA with 'proxy certs ca'");
        return new CertificateAuthority(certificate, key);
    }

    /// <summary>Writes cert.pem, key.pem (mode 0600) and ca.pem (the same certificate, as a trust bundle).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var pem = Certificate.ExportCertificatePem() + "\n";
        WriteFileAtomically(Path.Combine(directory, CertFile), pem);
        WriteFileAtomically(Path.Combine(directory, CaFile), pem);
        WriteFileAtomically(Path.Combine(directory, KeyFile), Key.ExportPkcs8PrivateKeyPem() + "\n", privateKey: true);
    }

    /// <summary>
    /// Issues a workload certificate: ECDSA P-256, the SPIFFE ID as the only URI SAN, extra DNS
    /// names if given, client and server EKU, not a CA, valid for <paramref name="lifetime"/>.
    /// </summary>
    public WorkloadCertificate Issue(SpiffeId id, TimeSpan lifetime, IReadOnlyList<string>? dnsNames = null)
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(id.Value));
        AddDnsNames(san, dnsNames);
        return Sign(SubjectFor(id), san, [ServerAuth, ClientAuth], lifetime);
    }

    /// <summary>
    /// Issues an edge (server) certificate for <paramref name="dnsNames"/>, without a SPIFFE ID:
    /// ECDSA P-256, the names as DNS SANs (the first also as the subject CN), serverAuth EKU only,
    /// for a listener's <c>tls</c> that browsers and other non-mesh clients connect to.
    /// </summary>
    public WorkloadCertificate IssueServer(IReadOnlyList<string> dnsNames, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfZero(dnsNames.Count);
        var san = new SubjectAlternativeNameBuilder();
        AddDnsNames(san, dnsNames);
        return Sign($"CN={dnsNames[0]}", san, [ServerAuth], lifetime);
    }

    private static void AddDnsNames(SubjectAlternativeNameBuilder san, IReadOnlyList<string>? dnsNames)
    {
        if (dnsNames is not null)
        {
            foreach (var name in dnsNames)
            {
                san.AddDnsName(name);
            }
        }
    }

    private WorkloadCertificate Sign(string subject, SubjectAlternativeNameBuilder san, Oid[] usages, TimeSpan lifetime)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(subject), key, HashAlgorithmName.SHA256);
        var extendedUsages = new OidCollection();
        foreach (var usage in usages)
        {
            extendedUsages.Add(usage);
        }

        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(extendedUsages, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));

        var now = DateTimeOffset.UtcNow;
        var notAfter = now + lifetime;
        if (notAfter > Certificate.NotAfter)
        {
            notAfter = Certificate.NotAfter; // a child may not outlive its issuer
        }

        Span<byte> serial = stackalloc byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F; // positive INTEGER (RFC 5280, 4.1.2.2)
        using var signed = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(Key), now.AddMinutes(-5), notAfter, serial);
        return new WorkloadCertificate(signed.CopyWithPrivateKey(key), key, Certificate);
    }

    private static string SubjectFor(SpiffeId id)
    {
        // The subject is informational (the URI SAN is the identity); keep it a valid, short CN.
        var cn = id.Path.Length > 0 ? id.Path[(id.Path.LastIndexOf('/') + 1)..] : id.TrustDomain;
        return $"CN={cn}, O={id.TrustDomain}";
    }

    /// <summary>Writes through a temporary file and a rename, so a watcher never sees half a file.</summary>
    internal static void WriteFileAtomically(string path, string contents, bool privateKey = false)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, contents);
        if (privateKey && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }

    public void Dispose()
    {
        Key.Dispose();
        Certificate.Dispose();
    }
}
