using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Runtime;
using Proxy.Tls;
using Proxy.Upstream;

namespace Proxy.Outbound;

/// <summary>
/// A destination the app dials by virtual address, resolved: its cluster for opaque traffic, and the routes its HTTP
/// traffic takes, one compiled form per protocol the app may speak (the request goes upstream in that protocol).
/// </summary>
public sealed class MeshService(string name, MeshServiceProtocol protocol, Cluster tcpCluster, TcpStreamMetrics tcpMetrics, SpiffeId? identity, ListenerRuntime? http1, ListenerRuntime? http2)
{
    /// <summary>The virtual address as configured (metrics label).</summary>
    public string Name { get; } = name;

    /// <summary>What the app speaks to it, as declared.</summary>
    public MeshServiceProtocol Protocol { get; } = protocol;

    /// <summary>The service's cluster for opaque traffic, balanced per connection; its TLS settings carry the workload certificate and the expected SPIFFE ID.</summary>
    public Cluster TcpCluster { get; } = tcpCluster;

    /// <summary>The metrics of its opaque traffic, with both workloads (the destination's as its certificate tells it).</summary>
    public TcpStreamMetrics TcpMetrics { get; } = tcpMetrics;

    /// <summary>
    /// Run once the opaque connection's TLS is up: Istio's TCP metadata exchange, naming the metrics series of the
    /// server's workload; null for a plain-text destination.
    /// </summary>
    public Func<TlsConnection, ValueTask<TcpStreamMetrics?>>? TcpAfterHandshake { get; init; }

    /// <summary>The identity the upstream must prove, or null for plain text.</summary>
    public SpiffeId? Identity { get; } = identity;

    /// <summary>The routes for an app speaking HTTP/1.1, over HTTP/1.1 upstream connections; null for protocol tcp or grpc.</summary>
    public ListenerRuntime? Http1 { get; } = http1;

    /// <summary>The routes for an app speaking HTTP/2, over multiplexed HTTP/2 upstream connections; null for protocol tcp.</summary>
    public ListenerRuntime? Http2 { get; } = http2;
}
