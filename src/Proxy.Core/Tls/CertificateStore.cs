namespace Proxy.Tls;

/// <summary>
/// Every certificate and CA bundle the proxy uses, shared by path, polled for changes on a timer
/// (off the socket threads) so rotated files take effect for new handshakes without a restart.
/// </summary>
public sealed class CertificateStore : IDisposable
{
    private readonly Dictionary<(string, string), CertificateSource> _certificates = new();
    private readonly Dictionary<string, TrustBundle> _bundles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CertificateSource> _secretCertificates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrustBundle> _secretBundles = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private long _reloads;

    /// <param name="pollInterval">How often files are checked; <see cref="Timeout.InfiniteTimeSpan"/> for never (tests call <see cref="Poll"/>).</param>
    public CertificateStore(TimeSpan pollInterval)
    {
        _timer = new Timer(static state => ((CertificateStore)state!).Poll(), this, pollInterval, pollInterval);
    }

    /// <summary>Default interval between file checks.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Certificates or bundles replaced since start.</summary>
    public long Reloads => Interlocked.Read(ref _reloads);

    /// <summary>The source for a cert/key pair, loading it on first use (throws when the files are unusable).</summary>
    public CertificateSource Certificate(string certPath, string keyPath)
    {
        lock (_lock)
        {
            var key = (Path.GetFullPath(certPath), Path.GetFullPath(keyPath));
            if (!_certificates.TryGetValue(key, out var source))
            {
                source = new CertificateSource(key.Item1, key.Item2);
                _certificates[key] = source;
            }

            return source;
        }
    }

    /// <summary>The CA bundle at a path, loading it on first use.</summary>
    public TrustBundle Bundle(string path)
    {
        lock (_lock)
        {
            var full = Path.GetFullPath(path);
            if (!_bundles.TryGetValue(full, out var bundle))
            {
                bundle = new TrustBundle(full);
                _bundles[full] = bundle;
            }

            return bundle;
        }
    }

    /// <summary>
    /// Sets the certificate held in memory under <paramref name="name"/> (a secret from a management server): the
    /// first time it is made, after that it is rotated in place, so TLS policies that use it take the new one for new
    /// handshakes, with no recompile and no connection dropped. Throws <see cref="Configuration.UnusableFileException"/>
    /// (and keeps the previous one) when the PEM is unusable.
    /// </summary>
    public void SetSecretCertificate(string name, string certPem, string keyPem)
    {
        lock (_lock)
        {
            if (_secretCertificates.TryGetValue(name, out var source))
            {
                source.Replace(certPem, keyPem);
            }
            else
            {
                _secretCertificates[name] = new CertificateSource(name, certPem, keyPem);
            }
        }
    }

    /// <summary>Sets the CA bundle held in memory under <paramref name="name"/>, as <see cref="SetSecretCertificate"/> does a certificate.</summary>
    public void SetSecretBundle(string name, string pem)
    {
        lock (_lock)
        {
            if (_secretBundles.TryGetValue(name, out var bundle))
            {
                bundle.Replace(pem);
            }
            else
            {
                _secretBundles[name] = new TrustBundle(name, pem);
            }
        }
    }

    /// <summary>The certificate held in memory under <paramref name="name"/>, or null when none was set.</summary>
    public CertificateSource? SecretCertificate(string name)
    {
        lock (_lock)
        {
            return _secretCertificates.GetValueOrDefault(name);
        }
    }

    /// <summary>The CA bundle held in memory under <paramref name="name"/>, or null when none was set.</summary>
    public TrustBundle? SecretBundle(string name)
    {
        lock (_lock)
        {
            return _secretBundles.GetValueOrDefault(name);
        }
    }

    /// <summary>Forgets the secrets held in memory whose names <paramref name="keep"/> refuses (a management server stopped sending them).</summary>
    public void RetainSecrets(Func<string, bool> keep)
    {
        lock (_lock)
        {
            foreach (var name in _secretCertificates.Keys.Where(n => !keep(n)).ToArray())
            {
                _secretCertificates.Remove(name);
            }

            foreach (var name in _secretBundles.Keys.Where(n => !keep(n)).ToArray())
            {
                _secretBundles.Remove(name);
            }
        }
    }

    /// <summary>Every certificate and CA bundle loaded so far (files and secrets held in memory), for the admin /certs page.</summary>
    public (CertificateSource[] Certificates, TrustBundle[] Bundles) Loaded()
    {
        lock (_lock)
        {
            return ([.. _certificates.Values, .. _secretCertificates.Values], [.. _bundles.Values, .. _secretBundles.Values]);
        }
    }

    /// <summary>Checks every file now; returns how many certificates or bundles were replaced.</summary>
    public int Poll()
    {
        CertificateSource[] certificates;
        TrustBundle[] bundles;
        lock (_lock)
        {
            certificates = [.. _certificates.Values];
            bundles = [.. _bundles.Values];
        }

        var reloaded = 0;
        foreach (var bundle in bundles)
        {
            reloaded += bundle.Poll() ? 1 : 0;
        }

        foreach (var certificate in certificates)
        {
            reloaded += certificate.Poll() ? 1 : 0;
        }

        Interlocked.Add(ref _reloads, reloaded);
        return reloaded;
    }

    public void Dispose() => _timer.Dispose();
}
