using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tls;

/// <summary>
/// CA certificates from a PEM bundle, reloaded when the file changes, and the chain check against
/// them (custom root trust: the system store plays no part).
/// </summary>
public sealed class TrustBundle
{
    private readonly ReloadingFile _file;
    private X509Certificate2Collection _roots;

    /// <summary>Loads the bundle now; throws when it is unreadable or holds no certificate.</summary>
    public TrustBundle(string path)
    {
        Path = path;
        _file = new ReloadingFile(path);
        _file.Changed();
        _roots = Load(path);
    }

    public string Path { get; }

    /// <summary>The CA certificates in effect.</summary>
    public X509Certificate2Collection Roots => Volatile.Read(ref _roots);

    /// <summary>The last reload failure, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Reloads when the file changed; true when a new bundle took effect.</summary>
    public bool Poll()
    {
        if (!_file.Changed())
        {
            return false;
        }

        try
        {
            Volatile.Write(ref _roots, Load(Path));
            LastError = null;
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            LastError = ex.Message;
            _file.Reset(); // a half-rotated pair: try again on the next poll
            return false;
        }
    }

    /// <summary>
    /// True when <paramref name="certificate"/> chains to one of the roots. The chain the peer sent
    /// supplies intermediates; revocation is not checked (short-lived mesh certificates stand in for it).
    /// </summary>
    public bool Verify(X509Certificate2 certificate, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(Roots);
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                if (!ReferenceEquals(element.Certificate, certificate))
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }

        return chain.Build(certificate);
    }

    private static X509Certificate2Collection Load(string path)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        if (roots.Count == 0)
        {
            throw new InvalidDataException($"{path} holds no PEM certificate");
        }

        return roots;
    }
}
