using Envoy.Extensions.TransportSockets.Tls.V3;
using Proxy.Configuration;
using Proxy.Tls;
using Proxy.Xds.Translation;

namespace Proxy.Xds;

/// <summary>
/// The SDS secrets accepted over the ADS stream, and the certificate store that serves them (and clusters' inline
/// PEM) to the TLS policies. A secret that changes is rotated in place in the store: new handshakes take it, open
/// connections keep theirs, and nothing is recompiled. Used by one ADS stream at a time; /config_dump reads
/// <see cref="Secrets"/> from other threads, so the dictionary is replaced, never changed.
/// </summary>
public sealed class XdsSecretStore(CertificateStore certificates)
{
    private Dictionary<string, AcceptedSecret> _secrets = new(StringComparer.Ordinal);

    /// <summary>The accepted secrets by name.</summary>
    public IReadOnlyDictionary<string, AcceptedSecret> Secrets => _secrets;

    /// <summary>Whether the secret a cluster waits for has arrived, of the kind it needs.</summary>
    public bool Has(SecretReference reference) => _secrets.TryGetValue(reference.Name, out var secret) && secret.Translated.Kind == reference.Kind;

    private HashSet<string> _listenerNames = new(StringComparer.Ordinal);
    private HashSet<string> _listenerStoreNames = new(StringComparer.Ordinal);

    /// <summary>The SDS secret names the accepted listeners' TLS chains wait for (beside the clusters').</summary>
    public IReadOnlyCollection<string> ListenerSecretNames => _listenerNames;

    /// <summary>
    /// Records what the accepted listeners refer to (SDS names and the store names of their SDS and inline secrets),
    /// so the SDS subscription asks for them and a cluster update does not drop them.
    /// </summary>
    public void ListenersRefer(IEnumerable<SecretReference> secrets, IEnumerable<InlineSecret> inline)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var stored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            names.Add(secret.Name);
            stored.Add(secret.StoreName);
        }

        foreach (var secret in inline)
        {
            stored.Add(secret.StoreName);
        }

        _listenerNames = names;
        _listenerStoreNames = stored;
    }

    /// <summary>Puts inline PEM into the certificate store (content-named, so the same PEM is one entry); <paramref name="owner"/> is "cluster 'x'" or "listener 'x'".</summary>
    public void RegisterInline(IReadOnlyList<InlineSecret> inline, string owner)
    {
        foreach (var secret in inline)
        {
            try
            {
                if (secret.CaPem is { } ca)
                {
                    certificates.SetSecretBundle(secret.StoreName, ca);
                }
                else
                {
                    certificates.SetSecretCertificate(secret.StoreName, secret.CertificatePem!, secret.KeyPem!);
                }
            }
            catch (UnusableFileException ex)
            {
                throw new XdsRejectedException($"{owner}: inline TLS material cannot be used: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// An SDS response: the secrets it holds replace those of the same name (SDS is not state of the world for
    /// deletion), each checked to load. Throws <see cref="XdsRejectedException"/> for the first that cannot.
    /// </summary>
    public Dictionary<string, AcceptedSecret> Translate(IReadOnlyList<Secret> resources, string version, DateTimeOffset now)
    {
        var next = new Dictionary<string, AcceptedSecret>(_secrets, StringComparer.Ordinal);
        var inResponse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (!inResponse.Add(resource.Name))
            {
                throw new XdsRejectedException($"secret '{resource.Name}' appears twice in one response; send each once");
            }

            if (_secrets.TryGetValue(resource.Name, out var old) && old.Resource.Equals(resource))
            {
                continue;
            }

            var translated = SecretTranslator.Translate(resource);
            try
            {
                // Loaded once here to check it, so a bad secret is a NACK before anything changes.
                _ = translated.Kind == SecretKind.Certificate
                    ? (object)new CertificateSource(resource.Name, translated.CertificatePem!, translated.KeyPem!)
                    : new TrustBundle(resource.Name, translated.CaPem!);
            }
            catch (UnusableFileException ex)
            {
                throw new XdsRejectedException($"secret '{resource.Name}': {ex.Message}");
            }

            next[resource.Name] = new AcceptedSecret(resource, translated, version, now);
        }

        return next;
    }

    /// <summary>Makes a candidate the accepted set, and the certificate store serve it (rotating the secrets that changed).</summary>
    public void Commit(Dictionary<string, AcceptedSecret> candidate)
    {
        foreach (var (name, secret) in candidate)
        {
            if (_secrets.TryGetValue(name, out var old) && ReferenceEquals(old, secret))
            {
                continue;
            }

            var translated = secret.Translated;
            if (translated.Kind == SecretKind.Certificate)
            {
                certificates.SetSecretCertificate(SecretReference.StoreNameOf(name), translated.CertificatePem!, translated.KeyPem!);
            }
            else
            {
                certificates.SetSecretBundle(SecretReference.StoreNameOf(name), translated.CaPem!);
            }
        }

        _secrets = candidate;
    }

    /// <summary>
    /// Drops the secrets no accepted cluster or listener refers to any more (SDS names and inline PEM alike): one that
    /// asks again gets them sent again.
    /// </summary>
    public void Retain(IReadOnlySet<string> storeNames)
    {
        var listeners = _listenerStoreNames;
        if (listeners.Count > 0)
        {
            storeNames = new HashSet<string>(storeNames.Concat(listeners), StringComparer.Ordinal);
        }

        var kept = new Dictionary<string, AcceptedSecret>(StringComparer.Ordinal);
        foreach (var (name, secret) in _secrets)
        {
            if (storeNames.Contains(SecretReference.StoreNameOf(name)))
            {
                kept[name] = secret;
            }
        }

        _secrets = kept;
        certificates.RetainSecrets(storeNames.Contains);
    }
}
