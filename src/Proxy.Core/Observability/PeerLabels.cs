namespace Proxy.Observability;

/// <summary>
/// The other side of a request as the metrics label it: its workload, and how the connection to it was secured
/// (<c>connection_security_policy</c>: mutual_tls, none, or unknown at the caller, as Istio reports it).
/// Instances are interned by <see cref="PeerMetadataCache"/>, so series are found by reference.
/// </summary>
public sealed record PeerLabels(WorkloadLabels Workload, string SecurityPolicy)
{
    /// <summary>Nothing known about the peer.</summary>
    public static PeerLabels Unknown { get; } = new(WorkloadLabels.Unknown, WorkloadLabels.UnknownValue);
}
