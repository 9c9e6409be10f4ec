namespace Proxy.Tls;

/// <summary>
/// Every certificate and CA bundle the proxy uses, shared by path, polled for changes on a timer
/// (off the socket threads) so rotated files take effect for new handshakes without a restart.
/// </summary>
public sealed class CertificateStore : IDisposable
{
    private readonly Dictionary<(string, string), CertificateSource> _certificates = new();
    private readonly Dictionary<string, TrustBundle> _bundles = new(StringComparer.Ordinal);
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

    /// <summary>Every certificate and CA bundle loaded so far, for the admin /certs page.</summary>
    public (CertificateSource[] Certificates, TrustBundle[] Bundles) Loaded()
    {
        lock (_lock)
        {
            return ([.. _certificates.Values], [.. _bundles.Values]);
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
