using Proxy.Observability;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The peer metadata reader (<see cref="PeerMetadata.TryDecode"/>): any header value a peer sends, base64 or not, a
/// well-formed protobuf Struct or not, is read or refused without an exception, and what is read is what it would
/// write: a peer described by the fields read encodes to a value that reads back to the same fields.
/// </summary>
public static class PeerMetadataTarget
{
    public static FuzzTarget Target { get; } = new("peer-metadata", "Istio peer metadata (x-envoy-peer-metadata): no exception; what is read re-encodes to itself", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (!PeerMetadata.TryDecode(input, out var fields))
        {
            return;
        }

        var labels = new WorkloadLabels(
            fields.Workload ?? "w", fields.Namespace ?? "n", "p", fields.App ?? "a", fields.Version ?? "v");
        var again = System.Text.Encoding.ASCII.GetBytes(PeerMetadata.Encode(labels));
        FuzzFinding.Check(PeerMetadata.TryDecode(again, out var reread), "a value this side wrote does not read back");
        FuzzFinding.Check(
            reread == new PeerMetadata.Fields(labels.Workload, labels.Namespace, labels.App, labels.Version),
            "the fields read do not re-encode to themselves");
    }
}
