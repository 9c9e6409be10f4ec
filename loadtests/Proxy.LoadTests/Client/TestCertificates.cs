using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.LoadTests.Client;

/// <summary>A throwaway mesh CA with a server and a client certificate (SPIFFE URI SANs), written as PEM files.</summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(X509Certificate2 ca, X509Certificate2 client, string caPath, string serverCertPath, string serverKeyPath)
    {
        Ca = ca;
        Client = client;
        CaPath = caPath;
        ServerCertPath = serverCertPath;
        ServerKeyPath = serverKeyPath;
    }

    /// <summary>The CA certificate (the trust anchor of both sides).</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The client certificate, with its private key.</summary>
    public X509Certificate2 Client { get; }

    /// <summary>PEM file of the CA certificate.</summary>
    public string CaPath { get; }

    /// <summary>PEM file of the server certificate.</summary>
    public string ServerCertPath { get; }

    /// <summary>PEM file of the server's PKCS#8 private key.</summary>
    public string ServerKeyPath { get; }

    /// <summary>Creates the CA and both leaves (ECDSA P-256, valid for a day) and writes the server's files to <paramref name="directory"/>.</summary>
    public static TestCertificates Create(string directory)
    {
        var notBefore = DateTimeOffset.UtcNow.AddHours(-1);
        var notAfter = notBefore.AddDays(1);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=proxy-loadtests-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = caRequest.CreateSelfSigned(notBefore, notAfter);

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var server = Issue(ca, serverKey, "server", notBefore, notAfter);
        var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var client = Issue(ca, clientKey, "client", notBefore, notAfter).CopyWithPrivateKey(clientKey);

        string caPath = Path.Combine(directory, "ca.pem");
        string certPath = Path.Combine(directory, "server.pem");
        string keyPath = Path.Combine(directory, "server.key");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        File.WriteAllText(certPath, server.ExportCertificatePem());
        File.WriteAllText(keyPath, serverKey.ExportPkcs8PrivateKeyPem());
        return new TestCertificates(ca, client, caPath, certPath, keyPath);
    }

    /// <summary>Checks a server chain against this CA only (the system store is not involved).</summary>
    public bool ValidateServer(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Ca.Dispose();
        Client.Dispose();
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, ECDsa key, string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddUri(new Uri($"spiffe://loadtests.local/ns/loadtests/sa/{name}"));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
    }
}
