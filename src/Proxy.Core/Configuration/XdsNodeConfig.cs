namespace Proxy.Configuration;

/// <summary>
/// The xDS <c>Node</c> this proxy announces (envoy.config.core.v3.Node): management servers pick what to send by it.
/// Values may name environment variables (<c>${POD_NAME}</c>), as Kubernetes' downward API sets them.
/// </summary>
public sealed record XdsNodeConfig
{
    /// <summary>The node's unique id (Istio's <c>sidecar~10.0.0.5~pod.ns~ns.svc.cluster.local</c>).</summary>
    public required string Id { get; init; }

    /// <summary>The service cluster the node belongs to; empty when not given.</summary>
    public string Cluster { get; init; } = "";

    /// <summary>Opaque metadata (string values), in file order.</summary>
    public IReadOnlyList<XdsMetadataEntry> Metadata { get; init; } = ConfigList<XdsMetadataEntry>.Empty;

    /// <summary>Where the node runs; empty parts are not sent.</summary>
    public XdsLocalityConfig Locality { get; init; } = new();
}
