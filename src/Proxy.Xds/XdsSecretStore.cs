using Envoy.Extensions.TransportSockets.Tls.V3;
using Proxy.Configuration;
using Proxy.Tls;
using Proxy.Xds.Translation;

namespace Proxy.Xds;

/// <summary>
/// The SDS secrets accepted over the ADS stream and from the SDS servers of <c>xds.secret_servers</c> (each its own
/// set: istio-agent's <c>default</c> is not the ADS stream's), and the certificate store that serves them (and
/// clusters' inline PEM) to the TLS policies. A secret that changes is rotated in place in the store: new handshakes
/// take it, open connections keep theirs, and nothing is recompiled. Changed under the xDS clients' update gate, one
/// update at a time; /config_dump and the SDS clients read it from other threads, so the collections are replaced,
/// never changed.
/// </summary>
public sealed class XdsSecretStore(CertificateStore certificates)
{
    private Dictionary<string, AcceptedSecret> _secrets = new(StringComparer.Ordinal);
    private Dictionary<string, Dictionary<string, AcceptedSecret>> _servers = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, AcceptedSecret> NoSecrets = new(StringComparer.Ordinal);

    /// <summary>The secrets accepted over the ADS stream, by name.</summary>
    public IReadOnlyDictionary<string, AcceptedSecret> Secrets => _secrets;

    /// <summary>The secrets accepted from the SDS server <paramref name="server"/> (of <c>xds.secret_servers</c>), by name.</summary>
    public IReadOnlyDictionary<string, AcceptedSecret> ServerSecrets(string server) => _servers.GetValueOrDefault(server) ?? NoSecrets;

    /// <summary>The SDS servers secrets were accepted from, each with its secrets (for /config_dump).</summary>
    public IEnumerable<KeyValuePair<string, Dictionary<string, AcceptedSecret>>> Servers => _servers;

    /// <summary>Raised after what the accepted clusters or listeners refer to changed: the SDS servers' subscriptions follow it.</summary>
    public event Action? ReferencesChanged;

    /// <summary>Whether the secret a cluster or listener waits for has arrived from its source, of the kind it needs.</summary>
    public bool Has(SecretReference reference) =>
        (reference.Server is null ? _secrets : ServerSecrets(reference.Server)).TryGetValue(reference.Name, out var secret) && secret.Translated.Kind == reference.Kind;

    private SecretReference[] _listenerReferences = [];
    private HashSet<string> _listenerStoreNames = new(StringComparer.Ordinal);

    /// <summary>The SDS secret names (over ADS) the accepted listeners' TLS chains wait for (beside the clusters').</summary>
    public IReadOnlyCollection<string> ListenerSecretNames => ListenerSecretNamesOf(null);

    /// <summary>The secret names the accepted listeners' TLS chains wait for from <paramref name="server"/> (null: over ADS).</summary>
    public IReadOnlyCollection<string> ListenerSecretNamesOf(string? server)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in _listenerReferences)
        {
            if (reference.Server == server)
            {
                names.Add(reference.Name);
            }
        }

        return names;
    }

    /// <summary>
    /// Records what the accepted listeners refer to (SDS names and the store names of their SDS and inline secrets),
    /// so the SDS subscriptions ask for them and a cluster update does not drop them.
    /// </summary>
    public void ListenersRefer(IEnumerable<SecretReference> secrets, IEnumerable<InlineSecret> inline)
    {
        var references = new List<SecretReference>();
        var stored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            references.Add(secret);
            stored.Add(secret.StoreName);
        }

        foreach (var secret in inline)
        {
            stored.Add(secret.StoreName);
        }

        _listenerReferences = [.. references];
        _listenerStoreNames = stored;
        ReferencesChanged?.Invoke();
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
    /// An SDS response, over ADS or from <paramref name="server"/>: the secrets it holds replace those of the same name
    /// (SDS is not state of the world for deletion), each checked to load. Throws <see cref="XdsRejectedException"/>
    /// for the first that cannot.
    /// </summary>
    public Dictionary<string, AcceptedSecret> Translate(IReadOnlyList<Secret> resources, string version, DateTimeOffset now, string? server = null)
    {
        var held = server is null ? _secrets : ServerSecrets(server);
        var next = new Dictionary<string, AcceptedSecret>(held, StringComparer.Ordinal);
        var inResponse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (!inResponse.Add(resource.Name))
            {
                throw new XdsRejectedException($"secret '{resource.Name}' appears twice in one response; send each once");
            }

            if (held.TryGetValue(resource.Name, out var old) && old.Resource.Equals(resource))
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

    /// <summary>Makes a candidate the accepted set of its source, and the certificate store serve it (rotating the secrets that changed).</summary>
    public void Commit(Dictionary<string, AcceptedSecret> candidate, string? server = null)
    {
        var held = server is null ? _secrets : ServerSecrets(server);
        foreach (var (name, secret) in candidate)
        {
            if (held.TryGetValue(name, out var old) && ReferenceEquals(old, secret))
            {
                continue;
            }

            var translated = secret.Translated;
            if (translated.Kind == SecretKind.Certificate)
            {
                certificates.SetSecretCertificate(SecretReference.StoreNameOf(name, server), translated.CertificatePem!, translated.KeyPem!);
            }
            else
            {
                certificates.SetSecretBundle(SecretReference.StoreNameOf(name, server), translated.CaPem!);
            }
        }

        if (server is null)
        {
            _secrets = candidate;
        }
        else
        {
            _servers = new Dictionary<string, Dictionary<string, AcceptedSecret>>(_servers, StringComparer.Ordinal) { [server] = candidate };
        }
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

        _secrets = Kept(_secrets, null, storeNames);
        var servers = new Dictionary<string, Dictionary<string, AcceptedSecret>>(StringComparer.Ordinal);
        foreach (var (server, secrets) in _servers)
        {
            servers[server] = Kept(secrets, server, storeNames);
        }

        _servers = servers;
        certificates.RetainSecrets(storeNames.Contains);
        ReferencesChanged?.Invoke();
    }

    private static Dictionary<string, AcceptedSecret> Kept(Dictionary<string, AcceptedSecret> secrets, string? server, IReadOnlySet<string> storeNames)
    {
        var kept = new Dictionary<string, AcceptedSecret>(StringComparer.Ordinal);
        foreach (var (name, secret) in secrets)
        {
            if (storeNames.Contains(SecretReference.StoreNameOf(name, server)))
            {
                kept[name] = secret;
            }
        }

        return kept;
    }
}
