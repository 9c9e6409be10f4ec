namespace Proxy.Observability;

/// <summary>
/// Peers seen so far, by what they sent (<see cref="PeerMetadata.HeaderName"/>), the principal their certificate
/// proved, and how the connection was secured: each combination is read once and interned, so a request finds its
/// peer by comparing bytes, allocating nothing, and the metrics find its series by reference. The number of peers
/// is bounded (metric label cardinality): past <see cref="Capacity"/>, a new peer is labelled by its principal only.
/// </summary>
public sealed class PeerMetadataCache
{
    public const int Capacity = 256;

    private readonly object _gate = new();
    private Entry[] _entries = [];

    private sealed record Entry(byte[] Metadata, string Principal, string Policy, PeerLabels Labels);

    /// <summary>The interned labels of a peer; <paramref name="metadata"/> is empty when it sent none.</summary>
    public PeerLabels Resolve(ReadOnlySpan<byte> metadata, string principal, string policy)
    {
        foreach (var entry in Volatile.Read(ref _entries))
        {
            if (entry.Metadata.AsSpan().SequenceEqual(metadata) && entry.Principal == principal && entry.Policy == policy)
            {
                return entry.Labels;
            }
        }

        return Add(metadata, principal, policy);
    }

    private PeerLabels Add(ReadOnlySpan<byte> metadata, string principal, string policy)
    {
        var fromPrincipal = WorkloadLabels.FromPrincipal(principal);
        var workload = fromPrincipal;
        if (PeerMetadata.TryDecode(metadata, out var fields))
        {
            workload = new WorkloadLabels(
                fields.Workload ?? WorkloadLabels.UnknownValue,
                fields.Namespace ?? fromPrincipal.Namespace,
                fromPrincipal.Principal,
                fields.App ?? WorkloadLabels.UnknownValue,
                fields.Version ?? WorkloadLabels.UnknownValue);
        }

        var labels = new PeerLabels(workload, policy);
        lock (_gate)
        {
            var entries = _entries;
            if (entries.Length >= Capacity)
            {
                return PeerLabels.Unknown; // full: new peers are not told apart, so the series stay bounded
            }

            // The same peer under another encoding (or interned by a racing request) keeps one labels object.
            labels = FindByValue(entries, labels) ?? labels;
            Volatile.Write(ref _entries, [.. entries, new Entry(metadata.ToArray(), principal, policy, labels)]);
            return labels;
        }
    }

    private static PeerLabels? FindByValue(Entry[] entries, PeerLabels labels)
    {
        foreach (var entry in entries)
        {
            if (entry.Labels == labels)
            {
                return entry.Labels;
            }
        }

        return null;
    }
}
