namespace Proxy.Configuration;

/// <summary>
/// The management server the proxy takes resources from over xDS (<c>xds</c>): where it is, how to reach it, who
/// this proxy is to it (the node) and which resource types come from it. Resources from the file keep working
/// beside the dynamic ones.
/// </summary>
public sealed record XdsConfig
{
    /// <summary>The management server: <c>host:port</c> (gRPC over h2c, or TLS with <see cref="Tls"/>) or a Unix socket.</summary>
    public required XdsServerAddress Server { get; init; }

    /// <summary>TLS to the management server; null for plain text (h2c) or a Unix socket.</summary>
    public TlsClientConfig? Tls { get; init; }

    /// <summary>The protocol variant: state of the world (the default) or incremental (delta).</summary>
    public XdsApi Api { get; init; } = XdsApi.StateOfTheWorld;

    /// <summary>Who this proxy is: the <c>node</c> sent on the first request of each stream.</summary>
    public required XdsNodeConfig Node { get; init; }

    /// <summary>Whether clusters come from the server (CDS, a wildcard subscription); default true.</summary>
    public bool Clusters { get; init; } = true;

    /// <summary>Whether the endpoints of the EDS clusters come from it (EDS, named subscriptions); default true.</summary>
    public bool Endpoints { get; init; } = true;

    /// <summary>Whether listeners come from it (LDS, a wildcard subscription); default false.</summary>
    public bool Listeners { get; init; }

    /// <summary>Whether the route configurations the server's listeners name come from it (RDS, named subscriptions); default false.</summary>
    public bool Routes { get; init; }

    /// <summary>
    /// How long a listener waits for the route configuration it names before it serves without routes (Envoy's
    /// <c>initial_fetch_timeout</c>, xds_protocol "Knowing When a Requested Resource Does Not Exist"; default 15s).
    /// </summary>
    public TimeSpan InitialFetchTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The SDS servers beside the management server, by the name the resources reference them with (the
    /// <c>envoy_grpc.cluster_name</c> of a secret's <c>sds_config.api_config_source</c>); empty by default.
    /// </summary>
    public ConfigList<XdsSecretServerConfig> SecretServers { get; init; } = ConfigList<XdsSecretServerConfig>.Empty;

    /// <summary>How long one attempt to open the stream may take before it counts as failed (default 5s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
