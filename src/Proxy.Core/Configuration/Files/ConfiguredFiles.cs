using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Proxy.Configuration.Binding;

namespace Proxy.Configuration.Files;

/// <summary>
/// Checks the files a configuration names (certificates, keys, CA bundles, the access log) while
/// it is bound, when <see cref="ConfigValidationOptions.CheckFiles"/> asks for it (<c>proxy validate</c>,
/// start and reload): readable, parseable, the key matching its certificate. Each problem is an
/// error at the key that names the file, with the file's path and the reason, in the same list as
/// every other error of the file. Messages are written here, never taken from exceptions, whose
/// text is a bare resource key in the native binary.
/// </summary>
internal static class ConfiguredFiles
{
    /// <summary>A certificate chain and its private key: both readable PEM, the key the certificate's.</summary>
    public static void CheckCertificateAndKey(MappingView map, string certKey, string certPath, string keyKey, string keyPath)
    {
        var leaf = CheckCertificates(map, certKey, certPath, "certificate");
        string? keyText = Read(map, keyKey, keyPath);
        if (keyText is null)
        {
            leaf?.Dispose();
            return;
        }

        if (FindKeyLabel(keyText) is not { } label)
        {
            map.Error(keyKey, $"{keyPath} holds no PEM private key (expected a '-----BEGIN PRIVATE KEY-----', 'EC PRIVATE KEY' or 'RSA PRIVATE KEY' block)");
        }
        else if (label == "ENCRYPTED PRIVATE KEY")
        {
            map.Error(keyKey, $"{keyPath} holds an encrypted private key; the proxy needs it unencrypted (for example: openssl pkcs8 -in {Path.GetFileName(keyPath)} -nocrypt)");
        }
        else if (leaf is not null)
        {
            CheckKeyMatches(map, keyKey, keyPath, keyText, leaf, certPath);
        }

        leaf?.Dispose();
    }

    /// <summary>A CA bundle: readable PEM with at least one certificate, every one parseable.</summary>
    public static void CheckCaBundle(MappingView map, string key, string path) =>
        CheckCertificates(map, key, path, "CA bundle")?.Dispose();

    /// <summary>The access log file: its directory exists and the proxy may write the file there.</summary>
    public static void CheckLogFile(MappingView map, string key, string path)
    {
        string directory = Path.GetDirectoryName(path) ?? "/";
        if (Directory.Exists(path))
        {
            map.Error(key, $"{path} is a directory; name a file in it, such as {Path.Combine(path, "access.log")}");
            return;
        }

        if (!Directory.Exists(directory))
        {
            map.Error(key, $"the directory of the access log, {directory}, does not exist; create it or name another file");
            return;
        }

        try
        {
            if (File.Exists(path))
            {
                // Opened for writing and closed at once: nothing is written or truncated.
                using var _ = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);
            }
            else
            {
                // The file is made at start; prove the directory takes a new file without leaving one behind.
                using var _ = new FileStream(Path.Combine(directory, $".proxy-write-check-{Environment.ProcessId}-{Guid.NewGuid():N}"),
                    FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
        }
        catch (UnauthorizedAccessException)
        {
            map.Error(key, $"{path} cannot be written: permission denied (check the owner and mode of {(File.Exists(path) ? path : directory)})");
        }
        catch (IOException)
        {
            map.Error(key, $"{path} cannot be opened for writing (is the file system read-only or full?)");
        }
    }

    /// <summary>Reads every certificate of a PEM file; returns the first (the leaf), or null after reporting why there is none.</summary>
    private static X509Certificate2? CheckCertificates(MappingView map, string key, string path, string what)
    {
        string? text = Read(map, key, path);
        if (text is null)
        {
            return null;
        }

        X509Certificate2? first = null;
        int count = 0;
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label];
            if (label.SequenceEqual("CERTIFICATE"))
            {
                count++;
                try
                {
                    var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(rest[fields.Base64Data].ToString()));
                    if (first is null)
                    {
                        first = certificate;
                    }
                    else
                    {
                        certificate.Dispose();
                    }
                }
                catch (Exception ex) when (ex is CryptographicException or FormatException)
                {
                    map.Error(key, $"{path}: certificate {count} of the file is not a valid X.509 certificate (its PEM block does not decode)");
                    first?.Dispose();
                    return null;
                }
            }

            rest = rest[fields.Location.End..];
        }

        if (count == 0)
        {
            map.Error(key, FindKeyLabel(text) is not null
                ? $"{path} holds a private key, not a certificate; is it the 'key' file?"
                : $"{path} holds no PEM certificate (expected a '-----BEGIN CERTIFICATE-----' block) for the {what}");
        }

        return first;
    }

    private static void CheckKeyMatches(MappingView map, string keyKey, string keyPath, string keyText, X509Certificate2 leaf, string certPath)
    {
        AsymmetricAlgorithm? key = null;
        string algorithm;
        if (leaf.GetECDsaPublicKey() is { } ec)
        {
            ec.Dispose();
            key = ECDsa.Create();
            algorithm = "EC (ECDSA)";
        }
        else if (leaf.GetRSAPublicKey() is { } rsa)
        {
            rsa.Dispose();
            key = RSA.Create();
            algorithm = "RSA";
        }
        else
        {
            return; // another algorithm: the TLS stack judges it when the certificate is loaded
        }

        using (key)
        {
            try
            {
                key.ImportFromPem(keyText);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                map.Error(keyKey, $"{keyPath} is not a usable {algorithm} private key, which the certificate in {certPath} needs");
                return;
            }

            if (!key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(leaf.PublicKey.ExportSubjectPublicKeyInfo()))
            {
                map.Error(keyKey, $"the private key in {keyPath} does not belong to the certificate in {certPath} ({leaf.Subject}); use the key that was made with this certificate");
            }
        }
    }

    private static string? FindKeyLabel(string text)
    {
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label];
            if (label.EndsWith("PRIVATE KEY"))
            {
                return label.ToString();
            }

            rest = rest[fields.Location.End..];
        }

        return null;
    }

    private static string? Read(MappingView map, string key, string path)
    {
        if (Directory.Exists(path))
        {
            map.Error(key, $"{path} is a directory, not a file");
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            map.Error(key, $"{path} does not exist");
        }
        catch (UnauthorizedAccessException)
        {
            map.Error(key, $"{path} cannot be read: permission denied (check the file's owner and mode)");
        }
        catch (IOException)
        {
            map.Error(key, $"{path} cannot be read");
        }

        return null;
    }
}
