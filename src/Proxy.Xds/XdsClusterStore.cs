using Envoy.Config.Endpoint.V3;
using Proxy.Configuration;
using Proxy.Xds.Translation;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds;

/// <summary>
/// The last accepted Cluster and ClusterLoadAssignment resources, and the cluster configurations made of them. A
/// configuration object is kept while neither its Cluster nor its endpoints changed, so the snapshot compiler can
/// carry the compiled cluster, and the listeners using it, over unchanged (an endpoint change of one cluster
/// recompiles that cluster and the listeners that name it, no others). Used by one ADS stream at a time.
/// </summary>
public sealed class XdsClusterStore
{
    private Dictionary<string, AcceptedCluster> _clusters = new(StringComparer.Ordinal);
    private Dictionary<string, AcceptedAssignment> _assignments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (TranslatedCluster Cluster, IReadOnlyList<EndpointConfig>? Endpoints, bool Ready, ClusterConfig Config)> _configs = new(StringComparer.Ordinal);
    private readonly XdsTranslationContext _context;

    /// <param name="secrets">The SDS secrets (and the certificate store) the clusters' TLS uses; a private one when null.</param>
    /// <param name="context">What translation needs from the proxy's own configuration (its mesh identity).</param>
    public XdsClusterStore(XdsSecretStore? secrets = null, XdsTranslationContext? context = null)
    {
        Secrets = secrets ?? new XdsSecretStore(new Proxy.Tls.CertificateStore(Timeout.InfiniteTimeSpan));
        _context = context ?? XdsTranslationContext.Empty;
    }

    /// <summary>The SDS secrets the clusters wait for and use.</summary>
    public XdsSecretStore Secrets { get; }

    /// <summary>
    /// The SDS secret names the accepted clusters and listeners wait for from <paramref name="server"/> (null: over
    /// ADS; else an SDS server of <c>xds.secret_servers</c>), sorted: that source's SDS subscription.
    /// </summary>
    public IReadOnlyList<string> SecretNames(string? server = null)
    {
        var names = new SortedSet<string>(Secrets.ListenerSecretNamesOf(server), StringComparer.Ordinal);
        foreach (var cluster in _clusters.Values)
        {
            foreach (var secret in cluster.Translated.Sockets?.Secrets ?? [])
            {
                if (secret.Server == server)
                {
                    names.Add(secret.Name);
                }
            }
        }

        return [.. names];
    }

    /// <summary>The accepted clusters by name, with the version and time they arrived (for /config_dump).</summary>
    public IReadOnlyDictionary<string, AcceptedCluster> Clusters => _clusters;

    /// <summary>The accepted load assignments by EDS service name.</summary>
    public IReadOnlyDictionary<string, AcceptedAssignment> Assignments => _assignments;

    /// <summary>The EDS service names the accepted clusters ask for, sorted: the EDS subscription.</summary>
    public IReadOnlyList<string> EdsNames()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var cluster in _clusters.Values)
        {
            if (cluster.Translated.EdsServiceName is { } name)
            {
                names.Add(name);
            }
        }

        return [.. names];
    }

    /// <summary>
    /// A CDS response, state of the world: the clusters it holds replace the accepted set, and a cluster it leaves out
    /// is deleted. Throws <see cref="XdsRejectedException"/> for the first resource that cannot be honoured.
    /// </summary>
    public Dictionary<string, AcceptedCluster> TranslateClusters(IReadOnlyList<XdsCluster> resources, string version, DateTimeOffset now)
    {
        var next = new Dictionary<string, AcceptedCluster>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (next.ContainsKey(resource.Name))
            {
                throw new XdsRejectedException($"cluster '{resource.Name}' appears twice in one response; send each cluster once");
            }

            // An unchanged resource keeps its translation, its version and its time, as Envoy's dump shows them.
            if (_clusters.TryGetValue(resource.Name, out var old) && old.Resource.Equals(resource))
            {
                next.Add(resource.Name, old);
                continue;
            }

            var translated = ClusterTranslator.Translate(resource, _context);
            if (translated.Sockets is { Inline.Count: > 0 } sockets)
            {
                Secrets.RegisterInline(sockets.Inline, $"cluster '{resource.Name}'");
            }

            next.Add(resource.Name, new AcceptedCluster(resource, translated, version, now));
        }

        return next;
    }

    /// <summary>
    /// An EDS response: the assignments it holds replace those of the same name; names it leaves out keep theirs
    /// (EDS is not a state-of-the-world type for deletion, xds_protocol "Deleting resources"). Names no accepted
    /// cluster asks for are skipped.
    /// </summary>
    public Dictionary<string, AcceptedAssignment> TranslateAssignments(IReadOnlyList<ClusterLoadAssignment> resources, string version, DateTimeOffset now)
    {
        var next = new Dictionary<string, AcceptedAssignment>(_assignments, StringComparer.Ordinal);
        var inResponse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (!inResponse.Add(resource.ClusterName))
            {
                throw new XdsRejectedException($"ClusterLoadAssignment '{resource.ClusterName}' appears twice in one response; send each once");
            }

            if (_assignments.TryGetValue(resource.ClusterName, out var old) && old.Resource.Equals(resource))
            {
                continue;
            }

            var (endpoints, metadata) = LoadAssignmentTranslator.TranslateWithMetadata(resource, resource.ClusterName);
            next[resource.ClusterName] = new AcceptedAssignment(resource, endpoints, version, now) { SocketMetadata = metadata };
        }

        return next;
    }

    /// <summary>The cluster configurations for a candidate state: what the runtime compiles beside the file's clusters.</summary>
    public IReadOnlyList<ClusterConfig> Configs(Dictionary<string, AcceptedCluster>? clusters = null, Dictionary<string, AcceptedAssignment>? assignments = null)
    {
        clusters ??= _clusters;
        assignments ??= _assignments;
        var configs = new List<ClusterConfig>(clusters.Count);
        foreach (var (name, cluster) in clusters)
        {
            IReadOnlyList<EndpointConfig>? endpoints = null;
            AcceptedAssignment? assignment = null;
            if (cluster.Translated.EdsServiceName is { } service)
            {
                // Until its assignment arrives, an EDS cluster has no endpoints: requests get 503 (no healthy endpoint).
                endpoints = assignments.TryGetValue(service, out assignment) ? assignment.Endpoints : ConfigList<EndpointConfig>.Empty;
            }

            // A cluster whose SDS secrets have not all arrived fails closed: no endpoints (503) rather than TLS without them.
            var sockets = cluster.Translated.Sockets;
            var ready = sockets is null || sockets.Secrets.All(Secrets.Has);
            if (!_configs.TryGetValue(name, out var cached) || cached.Cluster != cluster.Translated || !ReferenceEquals(cached.Endpoints, endpoints) || cached.Ready != ready)
            {
                var config = endpoints is null ? cluster.Translated.Config
                    : cluster.Translated.Config with { Endpoints = sockets is null ? endpoints : sockets.Select(endpoints, assignment?.SocketMetadata ?? []) };
                if (!ready)
                {
                    config = config with { Endpoints = ConfigList<EndpointConfig>.Empty, Tls = null };
                }

                cached = (cluster.Translated, endpoints, ready, config);
                _configs[name] = cached;
            }

            configs.Add(cached.Config);
        }

        return configs;
    }

    /// <summary>Makes a candidate state the accepted one, once the runtime took it.</summary>
    public void Commit(Dictionary<string, AcceptedCluster>? clusters, Dictionary<string, AcceptedAssignment>? assignments)
    {
        if (clusters is not null)
        {
            _clusters = clusters;
            foreach (var name in _configs.Keys.ToArray())
            {
                if (!clusters.ContainsKey(name))
                {
                    _configs.Remove(name);
                }
            }

            // An assignment no cluster asks for any more is dropped: a cluster that comes back asks again. The
            // dictionaries are replaced, never changed, because /config_dump reads them from other threads.
            var wanted = new HashSet<string>(EdsNames(), StringComparer.Ordinal);
            var kept = new Dictionary<string, AcceptedAssignment>(StringComparer.Ordinal);
            foreach (var (name, assignment) in assignments ?? _assignments)
            {
                if (wanted.Contains(name))
                {
                    kept[name] = assignment;
                }
            }

            _assignments = kept;

            // Secrets (SDS and inline PEM) no cluster refers to any more are dropped.
            var referenced = new HashSet<string>(StringComparer.Ordinal);
            foreach (var cluster in clusters.Values)
            {
                if (cluster.Translated.Sockets is { } sockets)
                {
                    referenced.UnionWith(sockets.Secrets.Select(static s => s.StoreName));
                    referenced.UnionWith(sockets.Inline.Select(static s => s.StoreName));
                }
            }

            Secrets.Retain(referenced);
            return;
        }

        if (assignments is not null)
        {
            _assignments = assignments;
        }
    }
}
