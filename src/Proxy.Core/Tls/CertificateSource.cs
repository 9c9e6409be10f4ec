using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Proxy.Configuration;

namespace Proxy.Tls;

/// <summary>
/// One certificate chain and private key loaded from PEM files, reloaded when the files change.
/// A reload swaps <see cref="Current"/> atomically: handshakes already running keep the old
/// context, new ones get the new certificate, and no connection is dropped. A reload that fails
/// (a half-written file) keeps the previous certificate and records the error.
/// </summary>
public sealed class CertificateSource
{
    private readonly ReloadingFile? _files; // null for a certificate held in memory (a secret from a management server)
    private LoadedCertificate _current;

    /// <summary>Loads the files now; throws <see cref="UnusableFileException"/> (a sentence naming the file and the fix) when they are unusable.</summary>
    public CertificateSource(string certPath, string keyPath)
    {
        CertPath = certPath;
        KeyPath = keyPath;
        _files = new ReloadingFile(certPath, keyPath);
        _files.Changed();
        _current = Load(certPath, keyPath, 1);
    }

    /// <summary>
    /// A certificate held in memory under <paramref name="name"/> (an SDS secret or inline PEM from a management
    /// server); <see cref="Replace"/> rotates it. Throws <see cref="UnusableFileException"/> when the PEM is unusable.
    /// </summary>
    public CertificateSource(string name, string certPem, string keyPem)
    {
        CertPath = KeyPath = $"secret '{name}'";
        _current = LoadPem(certPem, keyPem, CertPath, 1);
    }

    /// <summary>The certificate file's path, or <c>secret 'NAME'</c> for one held in memory.</summary>
    public string CertPath { get; }

    public string KeyPath { get; }

    /// <summary>The certificate new handshakes use.</summary>
    public LoadedCertificate Current => Volatile.Read(ref _current);

    /// <summary>The last reload failure, or null after a successful load.</summary>
    public string? LastError { get; private set; }

    /// <summary>Reloads when the files changed. Returns true when a new certificate took effect.</summary>
    public bool Poll()
    {
        if (_files is null || !_files.Changed())
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
        catch (UnusableFileException ex)
        {
            LastError = ex.Message;
            _files.Reset(); // a half-rotated pair: try again on the next poll
            return false;
        }
    }

    /// <summary>
    /// Rotates a certificate held in memory: new handshakes take the new one, open connections keep theirs. Throws
    /// <see cref="UnusableFileException"/> (and keeps the current one) when the PEM is unusable.
    /// </summary>
    public void Replace(string certPem, string keyPem)
    {
        if (_files is not null)
        {
            throw new InvalidOperationException("a certificate read from files is replaced by rewriting its files");
        }

        Volatile.Write(ref _current, LoadPem(certPem, keyPem, CertPath, Current.Version + 1));
    }

    private static LoadedCertificate Load(string certPath, string keyPath, int version) =>
        Context(PemFiles.LoadCertificateWithKey(certPath, keyPath), certPath, keyPath, version);

    private static LoadedCertificate LoadPem(string certPem, string keyPem, string name, int version) =>
        Context(PemFiles.CertificateWithKeyFromText(certPem, $"{name} (certificate_chain)", keyPem, $"{name} (private_key)"), name, name, version);

    private static LoadedCertificate Context((X509Certificate2 Leaf, X509Certificate2Collection Intermediates) loaded, string certPath, string keyPath, int version)
    {
        var (leaf, intermediates) = loaded;

        // offline: the chain is built from what the file holds; no AIA fetches on a socket thread.
        SslStreamCertificateContext context;
        try
        {
            context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        }
        catch (CryptographicException ex)
        {
            throw new UnusableFileException($"the certificate {certPath} with its key {keyPath} cannot serve TLS (the system's TLS library refused the pair); check that it is a TLS server or client certificate", ex);
        }

        return new LoadedCertificate(leaf, context, SpiffeId.FromCertificate(leaf), version);
    }
}
