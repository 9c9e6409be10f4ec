using Proxy.Configuration.Files;
using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>Listener, HTTP limit, rate limit and server TLS binding.</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] ListenerKeys =
        ["name", "address", "protocol", "cluster", "routes", "virtual_hosts", "tls", "idle_timeout", "connect_timeout", "limits", "rate_limit", "http_filters",
         "request_headers", "response_headers"];
    private static readonly string[] LimitsKeys = ["max_header_bytes", "max_request_target_bytes", "max_body_bytes", "header_timeout"];
    private static readonly string[] RateLimitKeys = ["requests_per_second", "burst"];
    private static readonly string[] TlsServerKeys = ["certificates", "client_ca", "require_client_cert", "alpn"];
    private static readonly string[] CertificateKeys = ["cert", "key", "sni"];
    private static readonly string[] ListenerProtocolNames = ["tcp", "http", "auto"];
    private static readonly ListenerProtocol[] ListenerProtocolValues = [ListenerProtocol.Tcp, ListenerProtocol.Http, ListenerProtocol.Auto];
    private static readonly string[] AlpnNames = ["h2", "http/1.1"];

    private static ConfigList<ListenerConfig> BindListeners(BindContext ctx, ConfigNode node, string path)
    {
        var items = ctx.ReadSequence(node, path);
        if (items is null)
        {
            return ConfigList<ListenerConfig>.Empty;
        }
        var listeners = new List<ListenerConfig>(items.Count);
        var bound = new List<(ListenerConfig Listener, ConfigMapping Node, string Path)>(items.Count);
        var names = new Dictionary<string, (string Path, int Line)>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            string itemPath = BindContext.Index(path, i);

            // Names are compared even when another field of the listener is wrong, so a file with
            // several mistakes reports all of them at once.
            if (items[i] is ConfigMapping { } named && named.Find("name") is ConfigScalar { } nameNode)
            {
                if (names.TryGetValue(nameNode.Value, out var first))
                {
                    ctx.Error(nameNode, itemPath + ".name",
                        $"duplicate listener name '{nameNode.Value}' (also {first.Path}, line {first.Line})");
                }
                else
                {
                    names[nameNode.Value] = (itemPath, named.Line);
                }
            }

            if (BindListener(ctx, items[i], itemPath) is { } listener)
            {
                var mapping = (ConfigMapping)items[i];
                foreach (var (other, otherNode, otherPath) in bound)
                {
                    if (AddressesClash(listener.Address, other.Address))
                    {
                        ctx.Error(mapping.Find("address")!, itemPath + ".address",
                            $"address {listener.Address} clashes with listener '{other.Name}' ({other.Address}, line {otherNode.Line})");
                    }
                }
                bound.Add((listener, mapping, itemPath));
                listeners.Add(listener);
            }
        }
        return ConfigList<ListenerConfig>.From(listeners);
    }

    private static ListenerConfig? BindListener(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, ListenerKeys);
        if (map is null)
        {
            return null;
        }
        string? name = map.String("name", required: true);
        HostPort? address = map.Address("address", required: true);
        var protocol = map.Enum("protocol", ListenerProtocol.Http, ListenerProtocolNames, ListenerProtocolValues);
        string? cluster = map.ClusterName("cluster", required: false);
        var routes = map.Get("routes") is { } routesNode ? BindList(ctx, routesNode, map.ChildPath("routes"), BindRoute) : ConfigList<RouteConfig>.Empty;
        var virtualHosts = map.Get("virtual_hosts") is { } hostsNode ? BindVirtualHosts(ctx, hostsNode, map.ChildPath("virtual_hosts")) : ConfigList<VirtualHostConfig>.Empty;
        CheckRouteNamesUnique(ctx, map);

        // A tcp listener forwards to one cluster; http routes per request; auto does both (routes
        // for what detection finds to be HTTP, the cluster for opaque traffic).
        if (protocol == ListenerProtocol.Tcp)
        {
            if (!map.Has("cluster"))
            {
                map.Require("cluster");
            }
            if (map.Has("routes"))
            {
                map.Error("routes", "a tcp listener takes 'cluster', not 'routes'");
            }
            if (map.Has("virtual_hosts"))
            {
                map.Error("virtual_hosts", "a tcp listener takes 'cluster', not 'virtual_hosts'");
            }
        }
        else if (map.Has("virtual_hosts"))
        {
            // One form per listener: plain routes are the virtual host '*', so mixing them would only hide which wins.
            if (map.Has("routes"))
            {
                map.Error("routes", "a listener takes 'routes' or 'virtual_hosts', not both; move these routes into a virtual host with domains: [\"*\"]");
            }
            if (protocol == ListenerProtocol.Http && map.Has("cluster"))
            {
                map.Error("cluster", "an http listener sends requests to clusters through 'virtual_hosts', not 'cluster'");
            }
        }
        else
        {
            if (!map.Has("routes"))
            {
                map.Require("routes");
            }
            else if (routes.Count == 0 && map.Get("routes") is ConfigSequence { Items.Count: 0 })
            {
                map.Error("routes", "an http listener needs at least one route");
            }
            if (protocol == ListenerProtocol.Http && map.Has("cluster"))
            {
                map.Error("cluster", "an http listener sends requests to clusters through 'routes', not 'cluster'");
            }
        }

        // Every part is bound before a missing name or address drops the listener, so a file
        // reports all of the listener's mistakes at once, not one per fix.
        var tls = map.Get("tls") is { } tlsNode ? BindTlsServer(ctx, tlsNode, map.ChildPath("tls")) : null;
        var idleTimeout = map.Duration("idle_timeout", TimeSpan.FromSeconds(300));
        var connectTimeout = map.OptionalDuration("connect_timeout");
        var limits = map.Get("limits") is { } limitsNode ? BindLimits(ctx, limitsNode, map.ChildPath("limits")) : new HttpLimitsConfig();
        var rateLimit = map.Get("rate_limit") is { } rateLimitNode ? BindRateLimit(ctx, rateLimitNode, map.ChildPath("rate_limit")) : null;
        var httpFilters = map.Get("http_filters") is { } filtersNode ? BindHttpFilters(ctx, filtersNode, map.ChildPath("http_filters")) : null;
        if (httpFilters is not null)
        {
            CheckSectionsHaveTheirFilters(ctx, map, httpFilters, rateLimit is not null);
        }
        var requestHeaders = map.Get("request_headers") is { } requestNode ? BindHeaderChanges(ctx, requestNode, map.ChildPath("request_headers"), forResponse: false) : null;
        var responseHeaders = map.Get("response_headers") is { } responseNode ? BindHeaderChanges(ctx, responseNode, map.ChildPath("response_headers"), forResponse: true) : null;
        if (protocol == ListenerProtocol.Tcp && (requestHeaders is not null || responseHeaders is not null))
        {
            map.Error(requestHeaders is not null ? "request_headers" : "response_headers", "a tcp listener carries bytes, not HTTP messages: header changes need protocol http or auto");
        }
        if (name is null || address is null)
        {
            return null;
        }
        return new ListenerConfig
        {
            Name = name,
            Address = address.Value,
            Protocol = protocol,
            Cluster = cluster,
            Routes = routes,
            VirtualHosts = virtualHosts,
            Tls = tls,
            IdleTimeout = idleTimeout,
            ConnectTimeout = connectTimeout,
            Limits = limits,
            RateLimit = rateLimit,
            HttpFilters = httpFilters,
            RequestHeaders = requestHeaders,
            ResponseHeaders = responseHeaders,
        };
    }

    /// <summary>
    /// A section that only a filter acts on (a rate limit, a fault, a mirror) on a listener whose <c>http_filters</c>
    /// leaves that filter out would do nothing without a word: an error that names the filter to add, rather than a
    /// fault or limit the operator believes is on.
    /// </summary>
    private static void CheckSectionsHaveTheirFilters(BindContext ctx, MappingView map, IReadOnlyList<string> filters, bool listenerRateLimit)
    {
        if (listenerRateLimit && !filters.Contains("rate_limit"))
        {
            map.Error("rate_limit", "this rate limit does nothing: the listener's http_filters leaves out 'rate_limit'; add it to http_filters or remove this section");
        }

        foreach (var (routeNodes, routesPath) in RouteSequences(map))
        {
            CheckRoutesHaveTheirFilters(ctx, filters, routeNodes, routesPath);
        }
    }

    private static void CheckRoutesHaveTheirFilters(BindContext ctx, IReadOnlyList<string> filters, ConfigSequence routeNodes, string routesPath)
    {
        for (int i = 0; i < routeNodes.Items.Count; i++)
        {
            if (routeNodes.Items[i] is not ConfigMapping routeNode)
            {
                continue;
            }

            string routePath = BindContext.Index(routesPath, i);
            foreach (string key in (string[])["rate_limit", "fault", "mirror"])
            {
                if (!filters.Contains(key) && routeNode.Find(key) is ConfigNode { } node && node is not ConfigScalar { IsNull: true })
                {
                    ctx.Error(node, routePath + "." + key, $"this {key.Replace('_', ' ')} does nothing: the listener's http_filters leaves out '{key}'; add it to http_filters or remove this section");
                }
            }
        }
    }

    /// <summary>
    /// A listener's HTTP filter chain: registered names, each at most once, in the order they run (the router is
    /// always last and is not named). An empty list runs no filter.
    /// </summary>
    private static ConfigList<string>? BindHttpFilters(BindContext ctx, ConfigNode node, string path)
    {
        var items = ctx.ReadSequence(node, path);
        if (items is null)
        {
            return null;
        }
        var names = new List<string>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            string itemPath = BindContext.Index(path, i);
            if (ctx.ReadString(items[i], itemPath) is not { } name)
            {
                continue;
            }
            if (name == "router")
            {
                ctx.Error(items[i], itemPath, "the router always runs last and is not listed in 'http_filters'; remove it");
            }
            else if (!ctx.Options.HttpFilters.Contains(name))
            {
                ctx.Error(items[i], itemPath, $"unknown HTTP filter '{name}'; known filters are: {string.Join(", ", ctx.Options.HttpFilters)}");
            }
            else if (names.Contains(name))
            {
                ctx.Error(items[i], itemPath, $"the HTTP filter '{name}' is listed twice; list each filter once, in the order it should run");
            }
            else
            {
                names.Add(name);
            }
        }
        return ConfigList<string>.From(names);
    }

    // Two binds on one port clash when the hosts are equal or either is a wildcard address. Port 0
    // asks the kernel for any free port, so it never clashes.
    private static bool AddressesClash(HostPort a, HostPort b) =>
        a.Port != 0 && a.Port == b.Port && (a.Host == b.Host || a.Host is "0.0.0.0" or "::" || b.Host is "0.0.0.0" or "::");

    private static HttpLimitsConfig BindLimits(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, LimitsKeys);
        var defaults = new HttpLimitsConfig();
        if (map is null)
        {
            return defaults;
        }
        return new HttpLimitsConfig
        {
            MaxHeaderBytes = (int)map.Size("max_header_bytes", defaults.MaxHeaderBytes, 16L << 20),
            MaxRequestTargetBytes = (int)map.Size("max_request_target_bytes", defaults.MaxRequestTargetBytes, 1L << 20),
            MaxBodyBytes = map.Size("max_body_bytes", defaults.MaxBodyBytes, long.MaxValue),
            HeaderTimeout = map.Duration("header_timeout", defaults.HeaderTimeout),
        };
    }

    private static RateLimitConfig? BindRateLimit(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, RateLimitKeys);
        if (map is null || map.RequiredInt("requests_per_second", 1, int.MaxValue) is not { } rate)
        {
            return null;
        }
        return new RateLimitConfig { RequestsPerSecond = rate, Burst = map.Int("burst", rate, 1) };
    }

    private static TlsServerConfig? BindTlsServer(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, TlsServerKeys);
        if (map is null)
        {
            return null;
        }
        var certificates = map.Require("certificates") is { } certs
            ? BindList(ctx, certs, map.ChildPath("certificates"), BindCertificate)
            : ConfigList<TlsCertificateConfig>.Empty;
        if (map.Get("certificates") is ConfigSequence { Items.Count: 0 })
        {
            map.Error("certificates", "at least one certificate is needed");
        }
        string? clientCa = map.File("client_ca");
        if (clientCa is not null && ctx.Options.CheckFiles)
        {
            ConfiguredFiles.CheckCaBundle(map, "client_ca", clientCa);
        }
        bool requireClientCert = map.Bool("require_client_cert", false);
        if (requireClientCert && clientCa is null)
        {
            map.Error("require_client_cert", "require_client_cert needs client_ca to verify client certificates against");
        }
        return new TlsServerConfig
        {
            Certificates = certificates,
            ClientCa = clientCa,
            RequireClientCert = requireClientCert,
            Alpn = map.Get("alpn") is { } alpn ? BindAlpn(ctx, alpn, map.ChildPath("alpn")) : new TlsServerConfig().Alpn,
        };
    }

    private static TlsCertificateConfig? BindCertificate(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, CertificateKeys);
        if (map is null)
        {
            return null;
        }
        string? cert = map.File("cert", required: true);
        string? key = map.File("key", required: true);
        var sni = map.StringList("sni");
        if (cert is not null && key is not null && ctx.Options.CheckFiles)
        {
            ConfiguredFiles.CheckCertificateAndKey(map, "cert", cert, "key", key);
        }
        return cert is null || key is null ? null : new TlsCertificateConfig { Cert = cert, Key = key, Sni = sni };
    }

    private static ConfigList<string> BindAlpn(BindContext ctx, ConfigNode node, string path)
    {
        var items = ctx.ReadSequence(node, path);
        var list = new List<string>();
        for (int i = 0; items is not null && i < items.Count; i++)
        {
            if (ctx.ReadWord(items[i], BindContext.Index(path, i), AlpnNames) is { } protocol)
            {
                list.Add(protocol);
            }
        }
        return ConfigList<string>.From(list);
    }
}
