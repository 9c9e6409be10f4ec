using Proxy.Configuration.Binding;
using Proxy.Tls;

namespace Proxy.Configuration.Files;

/// <summary>
/// Checks the files a configuration names (certificates, keys, CA bundles, the access log) while
/// it is bound, when <see cref="ConfigValidationOptions.CheckFiles"/> asks for it (<c>proxy validate</c>,
/// start and reload): readable, parseable, the key matching its certificate. Each problem is an
/// error at the key that names the file, with the file's path and the reason, in the same list as
/// every other error of the file. Certificates, keys and bundles are read by <see cref="PemFiles"/>, the
/// loader the running proxy uses, so validation and start say the same thing in the same words;
/// those are written by hand, never taken from exceptions, whose text is a bare resource key in the
/// native binary.
/// </summary>
internal static class ConfiguredFiles
{
    /// <summary>A certificate chain and its private key: both readable PEM, the key the certificate's.</summary>
    public static void CheckCertificateAndKey(MappingView map, string certKey, string certPath, string keyKey, string keyPath)
    {
        // The certificate alone first, so a problem is reported at the key ('cert' or 'key') of the file that has it.
        try
        {
            DisposeAll(PemFiles.LoadCertificateChain(certPath));
        }
        catch (UnusableFileException ex)
        {
            map.Error(certKey, ex.Message);
            try
            {
                PemFiles.CheckKeyFile(keyPath, certPath); // its own problems too, in the same run
            }
            catch (UnusableFileException keyError)
            {
                map.Error(keyKey, keyError.Message);
            }

            return;
        }

        try
        {
            var (leaf, intermediates) = PemFiles.LoadCertificateWithKey(certPath, keyPath);
            leaf.Dispose();
            DisposeAll(intermediates);
        }
        catch (UnusableFileException ex)
        {
            map.Error(keyKey, ex.Message);
        }
    }

    /// <summary>A CA bundle: readable PEM with at least one certificate, every one parseable.</summary>
    public static void CheckCaBundle(MappingView map, string key, string path)
    {
        try
        {
            DisposeAll(PemFiles.LoadBundle(path));
        }
        catch (UnusableFileException ex)
        {
            map.Error(key, ex.Message);
        }
    }

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

    private static void DisposeAll(System.Security.Cryptography.X509Certificates.X509Certificate2Collection certificates)
    {
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }
    }
}
