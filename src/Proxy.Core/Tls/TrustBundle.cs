using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Proxy.Configuration;

namespace Proxy.Tls;

/// <summary>
/// CA certificates from a PEM bundle, reloaded when the file changes, and the chain check against
/// them (custom root trust: the system store plays no part).
/// </summary>
public sealed class TrustBundle
{
    private readonly ReloadingFile? _file; // null for a bundle held in memory (a secret from a management server)
    private Trust _trust;

    /// <summary>Loads the bundle now; throws <see cref="UnusableFileException"/> when it is unreadable or holds no certificate.</summary>
    public TrustBundle(string path)
    {
        Path = path;
        _file = new ReloadingFile(path);
        _file.Changed();
        _trust = Trust.From(Load(path));
    }

    /// <summary>A bundle held in memory under <paramref name="name"/>; <see cref="Replace"/> rotates it. Throws <see cref="UnusableFileException"/> when the PEM holds no certificate.</summary>
    public TrustBundle(string name, string pem)
    {
        Path = $"secret '{name}'";
        _trust = Trust.From(PemFiles.BundleFromText(pem, Path));
    }

    /// <summary>The bundle file's path, or <c>secret 'NAME'</c> for one held in memory.</summary>
    public string Path { get; }

    /// <summary>Rotates a bundle held in memory: new handshakes verify against it. Throws <see cref="UnusableFileException"/> (keeping the current one) when unusable.</summary>
    public void Replace(string pem)
    {
        if (_file is not null)
        {
            throw new InvalidOperationException("a CA bundle read from a file is replaced by rewriting its file");
        }

        Volatile.Write(ref _trust, Trust.From(PemFiles.BundleFromText(pem, Path)));
    }

    /// <summary>
    /// The chain policy for SslStream's own check of a peer certificate (its <c>CertificateChainPolicy</c>): this
    /// bundle's roots only (the system store plays no part), no revocation check, and the extended key usage the
    /// peer's role needs (clientAuth for a client, serverAuth for a server), as OpenSSL's purpose check does for
    /// Envoy. With it the handshake builds one chain, against a one-certificate store, instead of one against the
    /// system store (hundreds of roots, searched and sorted by name on every handshake) and a second against these
    /// roots. SslStream copies the policy per handshake. Made once per load of the bundle: a reload gives a new
    /// object, which is how the TLS policies know to refresh what they cached.
    /// </summary>
    public X509ChainPolicy ChainPolicy(bool peerIsClient)
    {
        var trust = Volatile.Read(ref _trust);
        return peerIsClient ? trust.ClientPeers : trust.ServerPeers;
    }

    /// <summary>The CA certificates of the current load (the admin /certs page lists them).</summary>
    public X509Certificate2Collection Roots => Volatile.Read(ref _trust).ServerPeers.CustomTrustStore;

    /// <summary>The last reload failure, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Reloads when the file changed; true when a new bundle took effect.</summary>
    public bool Poll()
    {
        if (_file is null || !_file.Changed())
        {
            return false;
        }

        try
        {
            Volatile.Write(ref _trust, Trust.From(Load(Path)));
            LastError = null;
            return true;
        }
        catch (UnusableFileException ex)
        {
            LastError = ex.Message;
            _file.Reset(); // a half-rotated pair: try again on the next poll
            return false;
        }
    }

    private static X509Certificate2Collection Load(string path) => PemFiles.LoadBundle(path);

    /// <summary>The chain policies of one load of the bundle, for each role of the peer.</summary>
    private sealed record Trust(X509ChainPolicy ClientPeers, X509ChainPolicy ServerPeers)
    {
        public static Trust From(X509Certificate2Collection roots) => new(PolicyFor(roots, "1.3.6.1.5.5.7.3.2"), PolicyFor(roots, "1.3.6.1.5.5.7.3.1"));

        private static X509ChainPolicy PolicyFor(X509Certificate2Collection roots, string extendedKeyUsage)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                DisableCertificateDownloads = true,
            };
            policy.CustomTrustStore.AddRange(roots);
            policy.ApplicationPolicy.Add(new Oid(extendedKeyUsage));
            return policy;
        }
    }
}
