using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Proxy.Configuration;
using Proxy.Xds.Translation;

namespace Proxy.Xds;

/// <summary>
/// The last accepted Listener and RouteConfiguration resources, and the listener configurations made of them. An
/// HTTP listener that names a route configuration over RDS is warming until it arrives (Envoy's listener warming):
/// it is not bound, and so not composed, until then, unless the initial fetch timed out (<see cref="Absent"/>), after
/// which it serves with no routes (404) as Envoy does. A configuration object is kept while neither its Listener nor
/// its routes changed, so the snapshot compiler carries the compiled listener over. Used by one ADS stream at a time;
/// the dictionaries are replaced, never changed, because /config_dump reads them from other threads.
/// </summary>
public sealed class XdsListenerStore
{
    private readonly XdsTranslationContext _context;

    /// <param name="secrets">The SDS secrets (and the certificate store) the chains' TLS uses; a private one when null.</param>
    /// <param name="context">What translation needs from the proxy's own configuration (its mesh identity).</param>
    public XdsListenerStore(XdsSecretStore? secrets = null, XdsTranslationContext? context = null)
    {
        Secrets = secrets ?? new XdsSecretStore(new Proxy.Tls.CertificateStore(Timeout.InfiniteTimeSpan));
        _context = context ?? XdsTranslationContext.Empty;
    }

    /// <summary>The SDS secrets the listeners' TLS chains wait for and use (shared with the clusters).</summary>
    public XdsSecretStore Secrets { get; }

    private Dictionary<string, AcceptedListener> _listeners = new(StringComparer.Ordinal);
    private Dictionary<string, AcceptedRouteConfiguration> _routes = new(StringComparer.Ordinal);
    private HashSet<string> _absent = new(StringComparer.Ordinal);
    private Dictionary<string, RejectedListener> _rejected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (TranslatedListener Listener, TranslatedRouteConfiguration?[] Routes, ListenerConfig Config)> _configs = new(StringComparer.Ordinal);

    /// <summary>The accepted listeners by name, warming ones included.</summary>
    public IReadOnlyDictionary<string, AcceptedListener> Listeners => _listeners;

    /// <summary>The accepted route configurations by name.</summary>
    public IReadOnlyDictionary<string, AcceptedRouteConfiguration> Routes => _routes;

    /// <summary>Listeners whose last update was rejected, by name, until one is accepted (/config_dump's error_state).</summary>
    public IReadOnlyDictionary<string, RejectedListener> Rejected => _rejected;

    /// <summary>Route configuration names asked for that did not arrive within the initial fetch timeout.</summary>
    public IReadOnlySet<string> Absent => _absent;

    /// <summary>Whether a listener waits for a route configuration or a secret of one of its chains (not bound yet).</summary>
    public bool IsWarming(AcceptedListener listener)
    {
        if (!HasSecrets(listener.Translated))
        {
            return true;
        }

        foreach (var name in listener.Translated.RouteConfigNames)
        {
            if (!_routes.ContainsKey(name) && !_absent.Contains(name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The route configuration names the accepted listeners ask for, sorted: the RDS subscription.</summary>
    public IReadOnlyList<string> RdsNames(Dictionary<string, AcceptedListener>? listeners = null)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var listener in (listeners ?? _listeners).Values)
        {
            names.UnionWith(listener.Translated.RouteConfigNames);
        }

        return [.. names];
    }

    /// <summary>
    /// An LDS response, state of the world: the listeners it holds replace the accepted set, and a listener it leaves
    /// out is removed. Throws <see cref="XdsRejectedException"/> for the first resource that cannot be honoured.
    /// </summary>
    public Dictionary<string, AcceptedListener> TranslateListeners(IReadOnlyList<Listener> resources, string version, DateTimeOffset now)
    {
        var next = new Dictionary<string, AcceptedListener>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (next.ContainsKey(resource.Name))
            {
                throw new XdsRejectedException($"listener '{resource.Name}' appears twice in one response; send each listener once");
            }

            if (_listeners.TryGetValue(resource.Name, out var old) && old.Resource.Equals(resource))
            {
                next.Add(resource.Name, old);
                continue;
            }

            TranslatedListener translated;
            try
            {
                translated = ListenerTranslator.Translate(resource, _context);
                foreach (var chain in translated.Chains)
                {
                    Secrets.RegisterInline(chain.Inline, $"listener '{resource.Name}'");
                }
            }
            catch (XdsRejectedException ex)
            {
                // Remembered for /config_dump (error_state) whatever becomes of the response; the NACK says the same.
                _rejected = new Dictionary<string, RejectedListener>(_rejected, StringComparer.Ordinal)
                {
                    [resource.Name] = new RejectedListener(resource, version, now, ex.Message),
                };
                throw;
            }

            next.Add(resource.Name, new AcceptedListener(resource, translated, version, now));
        }

        return next;
    }

    /// <summary>
    /// An RDS response: the configurations it holds replace those of the same name; names it leaves out keep theirs
    /// (RDS resources are not deleted by omission, xds_protocol "Deleting resources").
    /// </summary>
    public Dictionary<string, AcceptedRouteConfiguration> TranslateRoutes(IReadOnlyList<RouteConfiguration> resources, string version, DateTimeOffset now)
    {
        var next = new Dictionary<string, AcceptedRouteConfiguration>(_routes, StringComparer.Ordinal);
        var inResponse = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (!inResponse.Add(resource.Name))
            {
                throw new XdsRejectedException($"route_configuration '{resource.Name}' appears twice in one response; send each once");
            }

            if (_routes.TryGetValue(resource.Name, out var old) && old.Resource.Equals(resource))
            {
                continue;
            }

            next[resource.Name] = new AcceptedRouteConfiguration(resource, RouteConfigurationTranslator.Translate(resource), version, now);
        }

        return next;
    }

    /// <summary>The listener configurations that serve for a candidate state: every accepted listener that is not warming.</summary>
    public XdsListenerSet Configs(Dictionary<string, AcceptedListener>? listeners = null, Dictionary<string, AcceptedRouteConfiguration>? routes = null, HashSet<string>? absent = null)
    {
        listeners ??= _listeners;
        routes ??= _routes;
        absent ??= _absent;
        var configs = new List<ListenerConfig>(listeners.Count);
        var warming = new List<ListenerConfig>();
        foreach (var (name, listener) in listeners.OrderBy(static l => l.Key, StringComparer.Ordinal))
        {
            var translated = listener.Translated;
            var tables = new TranslatedRouteConfiguration?[translated.Chains.Count];
            var warm = false;
            for (var i = 0; i < tables.Length; i++)
            {
                var chain = translated.Chains[i];
                tables[i] = chain.InlineRoutes;
                if (chain.RouteConfigName is { } rds)
                {
                    if (routes.TryGetValue(rds, out var accepted))
                    {
                        tables[i] = accepted.Translated;
                    }
                    else if (!absent.Contains(rds))
                    {
                        warm = true; // warming: not bound until the routes of every chain arrive or the initial fetch times out
                    }
                }
            }

            if (warm || !HasSecrets(translated))
            {
                warming.Add(translated.Config);
                continue;
            }

            if (!_configs.TryGetValue(name, out var cached) || cached.Listener != translated || !SameTables(cached.Routes, tables))
            {
                cached = (translated, tables, Compose(translated, tables));
                _configs[name] = cached;
            }

            configs.Add(cached.Config);
        }

        return new XdsListenerSet(configs, warming);
    }

    /// <summary>Whether every SDS secret of the listener's TLS chains has arrived (a chain without its certificate waits, as Envoy's warming).</summary>
    private bool HasSecrets(TranslatedListener translated)
    {
        foreach (var chain in translated.Chains)
        {
            foreach (var secret in chain.Secrets)
            {
                if (!Secrets.Has(secret))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>The listener's configuration with each chain's routes in place, its chains in order, the default last.</summary>
    private static ListenerConfig Compose(TranslatedListener translated, TranslatedRouteConfiguration?[] tables)
    {
        if (!translated.Chained)
        {
            return WithRoutes(translated.Chains[0].Config, tables[0]);
        }

        var chains = new List<FilterChainConfig>(tables.Length);
        ListenerConfig? fallback = null;
        for (var i = 0; i < tables.Length; i++)
        {
            var chain = translated.Chains[i];
            var config = WithRoutes(chain.Config, tables[i]);
            if (chain.Match is { } match)
            {
                chains.Add(new FilterChainConfig(match, config));
            }
            else
            {
                fallback = config;
            }
        }

        return translated.Config with { FilterChains = chains, DefaultFilterChain = fallback };
    }

    private static ListenerConfig WithRoutes(ListenerConfig config, TranslatedRouteConfiguration? table) =>
        config.Protocol == ListenerProtocol.Tcp
            ? config
            // No route configuration (it does not exist): the one virtual host '*' with no routes, every request 404.
            : config with
            {
                VirtualHosts = table is { VirtualHosts.Count: > 0 } ? new ConfigList<VirtualHostConfig>([.. table.VirtualHosts]) : ConfigList<VirtualHostConfig>.Empty,
                RequestHeaders = table?.RequestHeaders,
                ResponseHeaders = table?.ResponseHeaders,
            };

    private static bool SameTables(TranslatedRouteConfiguration?[] a, TranslatedRouteConfiguration?[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (!ReferenceEquals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A copy of the absent names with <paramref name="name"/> added (for a candidate state).</summary>
    public HashSet<string> WithAbsent(string name) => new(_absent, StringComparer.Ordinal) { name };

    /// <summary>Makes a candidate state the accepted one, once the runtime took it.</summary>
    public void Commit(Dictionary<string, AcceptedListener>? listeners, Dictionary<string, AcceptedRouteConfiguration>? routes, HashSet<string>? absent = null)
    {
        if (listeners is not null)
        {
            _listeners = listeners;
            Secrets.ListenersRefer(listeners.Values.SelectMany(static l => l.Translated.Chains).SelectMany(static c => c.Secrets),
                listeners.Values.SelectMany(static l => l.Translated.Chains).SelectMany(static c => c.Inline));

            // A listener accepted after its rejection (or removed) has no error state any more.
            if (_rejected.Count > 0)
            {
                var rejected = new Dictionary<string, RejectedListener>(StringComparer.Ordinal);
                foreach (var (name, failure) in _rejected)
                {
                    if (listeners.TryGetValue(name, out var accepted) && accepted.LastUpdated < failure.LastUpdateAttempt)
                    {
                        rejected[name] = failure;
                    }
                }

                _rejected = rejected;
            }
            foreach (var name in _configs.Keys.ToArray())
            {
                if (!listeners.ContainsKey(name))
                {
                    _configs.Remove(name);
                }
            }
        }

        if (routes is not null)
        {
            _routes = routes;
        }

        // Route configurations and absences no listener asks for any more are dropped: a listener that names one
        // again asks for it again (and waits for it again).
        var wanted = new HashSet<string>(RdsNames(), StringComparer.Ordinal);
        var kept = new Dictionary<string, AcceptedRouteConfiguration>(StringComparer.Ordinal);
        foreach (var (name, route) in _routes)
        {
            if (wanted.Contains(name))
            {
                kept[name] = route;
            }
        }

        _routes = kept;
        var absentKept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in absent ?? _absent)
        {
            if (wanted.Contains(name) && !_routes.ContainsKey(name))
            {
                absentKept.Add(name);
            }
        }

        _absent = absentKept;
    }
}
