using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>The <c>xds</c> section: the management server, the node and the resource types it sends.</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] XdsKeys = ["server", "api", "tls", "node", "resources", "connect_timeout", "initial_fetch_timeout", "secret_servers"];
    private static readonly string[] XdsApiNames = ["state_of_the_world", "delta"];
    private static readonly XdsApi[] XdsApiValues = [XdsApi.StateOfTheWorld, XdsApi.Delta];
    private static readonly string[] XdsNodeKeys = ["id", "cluster", "metadata", "locality"];
    private static readonly string[] XdsLocalityKeys = ["region", "zone", "sub_zone"];
    private static readonly string[] XdsResourceNames = ["clusters", "endpoints", "listeners", "routes"];

    // Secrets are not a type to subscribe to: they follow the clusters and listeners that name them; said so.
    private static readonly string[] XdsFollowingResourceNames = ["secrets"];

    private static XdsConfig? BindXds(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, XdsKeys);
        if (map is null)
        {
            return null;
        }

        var server = map.String("server", required: true) is { } text ? BindXdsServer(ctx, text, message => map.Error("server", message)) : null;
        var api = map.Enum("api", XdsApi.StateOfTheWorld, XdsApiNames, XdsApiValues);
        var tls = map.Get("tls") is { } tlsNode ? BindTlsClient(ctx, tlsNode, map.ChildPath("tls")) : null;
        if (tls is not null && server?.UnixPath is not null)
        {
            map.Error("tls", "a Unix socket is reached without TLS; remove tls, or name a host:port server");
        }

        var nodeConfig = map.Require("node") is { } nodeNode ? BindXdsNode(ctx, nodeNode, map.ChildPath("node")) : null;
        bool clusters = true, endpoints = true, listeners = false, routes = false;
        if (map.Get("resources") is { } resourcesNode)
        {
            clusters = endpoints = false;
            var names = ctx.ReadStringList(resourcesNode, map.ChildPath("resources"));
            foreach (var name in names)
            {
                if (Array.IndexOf(XdsFollowingResourceNames, name) >= 0)
                {
                    map.Error("resources", $"'{name}' is not a type to name here: secrets come with the clusters and listeners that name them, over the ADS stream or from an SDS server of xds.secret_servers; remove it");
                }
                else if (Array.IndexOf(XdsResourceNames, name) < 0)
                {
                    map.Error("resources", $"unknown resource type '{name}'; known: {string.Join(", ", XdsResourceNames)}");
                }

                clusters |= name == "clusters";
                endpoints |= name == "endpoints";
                listeners |= name == "listeners";
                routes |= name == "routes";
            }

            if (routes && !listeners)
            {
                map.Error("resources", "routes come for the listeners the server sends (their rds.route_config_name), so they need 'listeners' too; add listeners or remove routes");
            }

            if (endpoints && !clusters)
            {
                map.Error("resources", "endpoints come for the EDS clusters the server sends, so they need 'clusters' too; add clusters or remove endpoints");
            }
            else if (!clusters)
            {
                map.Error("resources", "name at least one resource type to take from the server, clusters among them: clusters, endpoints, listeners, routes");
            }
        }

        var secretServers = map.Get("secret_servers") is { } serversNode
            ? BindXdsSecretServers(ctx, serversNode, map.ChildPath("secret_servers"))
            : ConfigList<XdsSecretServerConfig>.Empty;
        var connectTimeout = map.Duration("connect_timeout", TimeSpan.FromSeconds(5));
        var initialFetchTimeout = map.Duration("initial_fetch_timeout", TimeSpan.FromSeconds(15));
        return server is null || nodeConfig is null ? null : new XdsConfig
        {
            Server = server,
            Api = api,
            Tls = tls,
            Node = nodeConfig,
            Clusters = clusters,
            Endpoints = endpoints,
            Listeners = listeners,
            Routes = routes,
            InitialFetchTimeout = initialFetchTimeout,
            ConnectTimeout = connectTimeout,
            SecretServers = secretServers,
        };
    }

    /// <summary>
    /// <c>secret_servers</c>: a mapping from the name the resources give an SDS server (their
    /// <c>envoy_grpc.cluster_name</c>, Istio's <c>sds-grpc</c>) to where it listens, written as <c>server</c> is.
    /// </summary>
    private static ConfigList<XdsSecretServerConfig> BindXdsSecretServers(BindContext ctx, ConfigNode node, string path)
    {
        if (node is not ConfigMapping mapping)
        {
            ctx.Error(node, path, $"expected a mapping of SDS server names to addresses (e.g. sds-grpc: unix:./var/run/secrets/workload-spiffe-uds/socket), found {node.Kind}");
            return ConfigList<XdsSecretServerConfig>.Empty;
        }

        var servers = new List<XdsSecretServerConfig>(mapping.Entries.Count);
        foreach (var (key, value) in mapping.Entries)
        {
            var valuePath = BindContext.Child(path, key.Value);
            if (key.Value.Length == 0)
            {
                ctx.Error(key, path, "an SDS server needs a name: the envoy_grpc.cluster_name its resources use (Istio's is sds-grpc)");
                continue;
            }

            if (ctx.ReadString(value, valuePath) is { } text
                && BindXdsServer(ctx, text, message => ctx.Error(value, valuePath, message)) is { } address)
            {
                servers.Add(new XdsSecretServerConfig(key.Value, address));
            }
        }

        return ConfigList<XdsSecretServerConfig>.From(servers);
    }

    /// <summary><c>unix:PATH</c> (relative paths against the configuration file's directory) or <c>host:port</c>.</summary>
    private static XdsServerAddress? BindXdsServer(BindContext ctx, string text, Action<string> error)
    {
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var socketPath = text["unix:".Length..];
            if (socketPath.Length == 0)
            {
                error("'unix:' names no socket; write unix:/path/to/socket");
                return null;
            }

            return new XdsServerAddress { UnixPath = ctx.ResolveFile(socketPath) };
        }

        if (!HostPort.TryParse(text, out var address, out var parseError))
        {
            error($"{parseError}; write host:port, or unix:/path for a Unix socket");
            return null;
        }

        return new XdsServerAddress { Address = address };
    }

    private static XdsNodeConfig? BindXdsNode(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, XdsNodeKeys);
        if (map is null)
        {
            return null;
        }

        var id = map.Require("id") is not null ? WorkloadValue(map, "id") : null;
        var cluster = WorkloadValue(map, "cluster") ?? "";
        var metadata = ConfigList<XdsMetadataEntry>.Empty;
        if (map.Get("metadata") is { } metadataNode)
        {
            metadata = BindXdsMetadata(ctx, metadataNode, map.ChildPath("metadata"));
        }

        var locality = new XdsLocalityConfig();
        if (map.Get("locality") is { } localityNode && MappingView.Open(ctx, localityNode, map.ChildPath("locality"), XdsLocalityKeys) is { } l)
        {
            locality = new XdsLocalityConfig
            {
                Region = WorkloadValue(l, "region") ?? "",
                Zone = WorkloadValue(l, "zone") ?? "",
                SubZone = WorkloadValue(l, "sub_zone") ?? "",
            };
        }

        return id is null ? null : new XdsNodeConfig { Id = id, Cluster = cluster, Metadata = metadata, Locality = locality };
    }

    /// <summary>Metadata keys are the user's own; values are strings (or scalars read as strings), with <c>${VARIABLE}</c> expanded.</summary>
    private static ConfigList<XdsMetadataEntry> BindXdsMetadata(BindContext ctx, ConfigNode node, string path)
    {
        if (node is not ConfigMapping mapping)
        {
            ctx.Error(node, path, $"expected a mapping of names to strings, found {node.Kind}");
            return ConfigList<XdsMetadataEntry>.Empty;
        }

        var entries = new List<XdsMetadataEntry>(mapping.Entries.Count);
        foreach (var (key, value) in mapping.Entries)
        {
            var valuePath = BindContext.Child(path, key.Value);
            if (ctx.ReadString(value, valuePath) is { } text
                && ExpandVariables(text, message => ctx.Error(value, valuePath, message)) is { } expanded)
            {
                entries.Add(new XdsMetadataEntry(key.Value, expanded));
            }
        }

        return ConfigList<XdsMetadataEntry>.From(entries);
    }
}
