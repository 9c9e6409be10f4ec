using Proxy.Tls;
using Proxy.Upstream;

namespace Proxy.Outbound;

/// <summary>A destination the app dials by virtual address, resolved: its cluster (with mTLS to the expected identity, if any).</summary>
public sealed class MeshService(string name, Cluster cluster, SpiffeId? identity)
{
    /// <summary>The virtual address as configured (metrics label).</summary>
    public string Name { get; } = name;

    /// <summary>The service's cluster; its TLS settings carry the workload certificate and the expected SPIFFE ID.</summary>
    public Cluster Cluster { get; } = cluster;

    /// <summary>The identity the upstream must prove, or null for plain text.</summary>
    public SpiffeId? Identity { get; } = identity;
}
