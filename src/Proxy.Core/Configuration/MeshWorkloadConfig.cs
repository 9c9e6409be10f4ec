namespace Proxy.Configuration;

/// <summary>
/// Who this sidecar's workload is, for Istio's metric labels (<c>source_workload</c>, <c>destination_app</c>, ...)
/// and for the metadata sent to the sidecar at the other end of each request. Values may name environment variables
/// (<c>${POD_NAMESPACE}</c>), as Kubernetes' downward API sets them. Null where not given: the namespace then comes
/// from the workload's SPIFFE ID, the app from the name, and the rest is "unknown".
/// </summary>
public sealed record MeshWorkloadConfig
{
    /// <summary>The workload (a Deployment's name).</summary>
    public string? Name { get; init; }

    /// <summary>Its namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>Its <c>app</c> label.</summary>
    public string? App { get; init; }

    /// <summary>Its <c>version</c> label.</summary>
    public string? Version { get; init; }
}
