using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proxy.Configuration;

namespace Proxy.Tls;

/// <summary>
/// Loads PEM certificates, private keys and CA bundles, and says precisely what is wrong with a file that cannot be
/// used: missing, unreadable, not PEM, DER instead of PEM, a key where a certificate belongs, an encrypted key, a key
/// that does not belong to the certificate. Every failure is an <see cref="UnusableFileException"/> whose message
/// names the file and the fix; the runtime's own messages are resource keys in the published binary.
/// </summary>
public static class PemFiles
{
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    /// <summary>The certificate chain of <paramref name="certPath"/> (leaf first) with the private key of <paramref name="keyPath"/> attached to the leaf.</summary>
    public static (X509Certificate2 Leaf, X509Certificate2Collection Intermediates) LoadCertificateWithKey(string certPath, string keyPath)
    {
        var chain = LoadCertificates("the certificate file", certPath);
        var certificate = chain[0];
        var keyText = ReadText("the private key file", keyPath);
        var leaf = AttachKey(certificate, certPath, keyText, keyPath);
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }

        return (leaf, intermediates);
    }

    /// <summary>The certificate chain of a certificate file (leaf first), without its key: at least one certificate.</summary>
    public static X509Certificate2Collection LoadCertificateChain(string certPath) => LoadCertificates("the certificate file", certPath);

    /// <summary>Every certificate of a CA bundle (at least one).</summary>
    public static X509Certificate2Collection LoadBundle(string path) => LoadCertificates("the CA bundle", path);

    /// <summary>
    /// The certificate chain (leaf first) and key of PEM text held in memory (a secret from a management server);
    /// <paramref name="certName"/> and <paramref name="keyName"/> say in messages where the text came from.
    /// </summary>
    public static (X509Certificate2 Leaf, X509Certificate2Collection Intermediates) CertificateWithKeyFromText(string certText, string certName, string keyText, string keyName)
    {
        var chain = ParseCertificates("the certificate chain", certName, certText);
        var leaf = AttachKey(chain[0], certName, keyText, keyName);
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }

        return (leaf, intermediates);
    }

    /// <summary>Every certificate of a CA bundle held in memory (at least one); <paramref name="name"/> names it in messages.</summary>
    public static X509Certificate2Collection BundleFromText(string text, string name) => ParseCertificates("the CA bundle", name, text);

    /// <summary>Every <c>CERTIFICATE</c> block of the file, in order; at least one.</summary>
    private static X509Certificate2Collection LoadCertificates(string role, string path) => ParseCertificates(role, path, ReadText(role, path));

    /// <summary>Every <c>CERTIFICATE</c> block of <paramref name="text"/>, in order; at least one.</summary>
    private static X509Certificate2Collection ParseCertificates(string role, string path, string text)
    {
        var certificates = new X509Certificate2Collection();
        var sawPrivateKey = false;
        var block = 0;
        foreach (var (label, data) in Blocks(text))
        {
            if (label != "CERTIFICATE")
            {
                sawPrivateKey |= label.EndsWith("PRIVATE KEY", StringComparison.Ordinal);
                continue;
            }

            block++;
            try
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(data));
            }
            catch (CryptographicException ex)
            {
                throw new UnusableFileException($"certificate number {block} in {role} {path} is not a valid X.509 certificate (its base64 text decodes to something else); replace it with the PEM text of the certificate", ex);
            }
        }

        if (certificates.Count > 0)
        {
            return certificates;
        }

        if (sawPrivateKey)
        {
            throw new UnusableFileException($"{role} {path} holds a private key but no certificate; check that cert and key are not swapped");
        }

        throw new UnusableFileException(NotPem(role, path, text, "-----BEGIN CERTIFICATE-----"));
    }

    /// <summary>
    /// Checks a private key file on its own (readable PEM, one unencrypted RSA or ECDSA key), for when its certificate
    /// cannot be read, so both files' problems are reported at once. <paramref name="certPath"/> is named in advice.
    /// </summary>
    public static void CheckKeyFile(string keyPath, string certPath)
    {
        using var key = ReadKey(ReadText("the private key file", keyPath), keyPath, certPath);
    }

    /// <summary>The first private key block of <paramref name="keyText"/>, imported; or why there is none usable.</summary>
    private static AsymmetricAlgorithm ReadKey(string keyText, string keyPath, string certPath)
    {
        string? label = null;
        byte[]? data = null;
        var sawCertificate = false;
        foreach (var (blockLabel, blockData) in Blocks(keyText))
        {
            if (blockLabel.EndsWith("PRIVATE KEY", StringComparison.Ordinal))
            {
                (label, data) = (blockLabel, blockData);
                break;
            }

            sawCertificate |= blockLabel == "CERTIFICATE";
        }

        if (label is null || data is null)
        {
            throw new UnusableFileException(sawCertificate
                ? $"the private key file {keyPath} holds a certificate but no private key; give the key file of the certificate {certPath}"
                : NotPem("the private key file", keyPath, keyText, "-----BEGIN PRIVATE KEY-----"));
        }

        if (label == "ENCRYPTED PRIVATE KEY")
        {
            throw new UnusableFileException($"the private key in {keyPath} is encrypted with a passphrase, which the proxy cannot use; write it unencrypted (openssl pkey -in {keyPath} -out key.pem) and keep the file private");
        }

        return ImportKey(label, data)
            ?? throw new UnusableFileException($"the private key in {keyPath} cannot be parsed as an RSA or ECDSA key ({label}); give a PEM key in PKCS#8 (BEGIN PRIVATE KEY), PKCS#1 (BEGIN RSA PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY) form");
    }

    private static X509Certificate2 AttachKey(X509Certificate2 certificate, string certPath, string keyText, string keyPath)
    {
        var keyAlgorithm = certificate.GetKeyAlgorithm();
        using var key = ReadKey(keyText, keyPath, certPath);
        var keyIsRsa = key is RSA;
        if (keyAlgorithm != RsaOid && keyAlgorithm != EcOid)
        {
            throw new UnusableFileException($"the certificate {certPath} has a public key of a kind the proxy does not support (algorithm {keyAlgorithm}); issue it with an RSA or ECDSA key");
        }

        if (keyIsRsa != (keyAlgorithm == RsaOid))
        {
            throw new UnusableFileException($"the private key in {keyPath} is an {(keyIsRsa ? "RSA" : "ECDSA")} key but the certificate {certPath} holds an {(keyIsRsa ? "ECDSA" : "RSA")} public key: they do not belong together; give the key the certificate was issued for");
        }

        try
        {
            return key is RSA rsa ? certificate.CopyWithPrivateKey(rsa) : certificate.CopyWithPrivateKey((ECDsa)key);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new UnusableFileException($"the private key in {keyPath} does not match the certificate {certPath} (it belongs to another certificate); give the key the certificate was issued for", ex);
        }
    }

    /// <summary>The key of a PEM block, or null when it is neither RSA nor ECDSA (or is damaged).</summary>
    private static AsymmetricAlgorithm? ImportKey(string label, byte[] data)
    {
        if (label is "RSA PRIVATE KEY" or "PRIVATE KEY")
        {
            var rsa = RSA.Create();
            try
            {
                if (label == "RSA PRIVATE KEY")
                {
                    rsa.ImportRSAPrivateKey(data, out _);
                }
                else
                {
                    rsa.ImportPkcs8PrivateKey(data, out _);
                }

                return rsa;
            }
            catch (CryptographicException)
            {
                rsa.Dispose();
            }
        }

        if (label is "EC PRIVATE KEY" or "PRIVATE KEY")
        {
            var ec = ECDsa.Create();
            try
            {
                if (label == "EC PRIVATE KEY")
                {
                    ec.ImportECPrivateKey(data, out _);
                }
                else
                {
                    ec.ImportPkcs8PrivateKey(data, out _);
                }

                return ec;
            }
            catch (CryptographicException)
            {
                ec.Dispose();
            }
        }

        return null;
    }

    /// <summary>Why a file without the expected PEM block is not usable: empty, DER, or not PEM at all.</summary>
    private static string NotPem(string role, string path, string text, string expected)
    {
        if (text.Trim().Length == 0)
        {
            return $"{role} {path} is empty; write the PEM text into it";
        }

        if (text.AsSpan().IndexOfAnyInRange('\0', '\b') >= 0)
        {
            return $"{role} {path} looks like binary DER, but the proxy reads PEM; convert it (openssl x509 -inform der -in {path} -out {path}.pem, or openssl pkey -inform der for a key)";
        }

        return $"{role} {path} is not a PEM file: it has no {expected} block; give the PEM text (as openssl writes it)";
    }

    private static string ReadText(string role, string path) =>
        // Latin-1 keeps every byte as one char, so a binary (DER) file stays recognisable.
        Encoding.Latin1.GetString(FileReadError.ReadAllBytes(role, path));

    /// <summary>The PEM blocks of <paramref name="text"/> (RFC 7468) whose base64 decodes, with their labels.</summary>
    private static List<(string Label, byte[] Data)> Blocks(string text)
    {
        var blocks = new List<(string, byte[])>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var data = new byte[fields.DecodedDataLength];
            if (Convert.TryFromBase64Chars(rest[fields.Base64Data], data, out var written))
            {
                blocks.Add((label, data[..written]));
            }

            rest = rest[fields.Location.End..];
        }

        return blocks;
    }
}
