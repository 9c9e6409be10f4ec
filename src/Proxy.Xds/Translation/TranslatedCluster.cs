using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A Cluster resource in the proxy's own terms: its configuration without endpoints, and for an EDS cluster the
/// name its ClusterLoadAssignment is asked for by (<c>eds_cluster_config.service_name</c>, else the cluster's name).
/// </summary>
public sealed record TranslatedCluster(ClusterConfig Config, string? EdsServiceName)
{
    /// <summary>Its transport sockets (TLS, per-endpoint matches, the secrets it waits for); null for plain text.</summary>
    public ClusterTransportSockets? Sockets { get; init; }
}
