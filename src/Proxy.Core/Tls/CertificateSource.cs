using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tls;

/// <summary>
/// One certificate chain and private key loaded from PEM files, reloaded when the files change.
/// A reload swaps <see cref="Current"/> atomically: handshakes already running keep the old
/// context, new ones get the new certificate, and no connection is dropped. A reload that fails
/// (a half-written file) keeps the previous certificate and records the error.
/// </summary>
public sealed class CertificateSource
{
    private readonly ReloadingFile _files;
    private LoadedCertificate _current;

    /// <summary>Loads the files now; throws <see cref="CryptographicException"/> or <see cref="IOException"/> when they are unusable.</summary>
    public CertificateSource(string certPath, string keyPath)
    {
        CertPath = certPath;
        KeyPath = keyPath;
        _files = new ReloadingFile(certPath, keyPath);
        _files.Changed();
        _current = Load(certPath, keyPath, 1);
    }

    public string CertPath { get; }

    public string KeyPath { get; }

    /// <summary>The certificate new handshakes use.</summary>
    public LoadedCertificate Current => Volatile.Read(ref _current);

    /// <summary>The last reload failure, or null after a successful load.</summary>
    public string? LastError { get; private set; }

    /// <summary>Reloads when the files changed. Returns true when a new certificate took effect.</summary>
    public bool Poll()
    {
        if (!_files.Changed())
        {
            return false;
        }

        try
        {
            var next = Load(CertPath, KeyPath, Current.Version + 1);
            Volatile.Write(ref _current, next);
            LastError = null;
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            LastError = ex.Message;
            _files.Reset(); // a half-rotated pair: try again on the next poll
            return false;
        }
    }

    private static LoadedCertificate Load(string certPath, string keyPath, int version)
    {
        var leaf = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certPath);
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < all.Count; i++)
        {
            intermediates.Add(all[i]);
        }

        // offline: the chain is built from what the file holds; no AIA fetches on a socket thread.
        var context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        return new LoadedCertificate(leaf, context, SpiffeId.FromCertificate(leaf), version);
    }
}
