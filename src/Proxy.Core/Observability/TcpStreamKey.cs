namespace Proxy.Observability;

/// <summary>What tells one set of TCP stream metrics from another: listener, cluster, and in a sidecar the reporter, its workload, the peer and the service.</summary>
public sealed record TcpStreamKey(string Listener, string Cluster, string Reporter, WorkloadLabels Local, PeerLabels Peer, ServiceLabels Service);
