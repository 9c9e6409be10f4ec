using System.Diagnostics.CodeAnalysis;

namespace Proxy.Fuzz.Targets;

/// <summary>Every fuzz target by name (docs/fuzzing.md lists what each checks).</summary>
public static class FuzzTargets
{
    /// <summary>The targets in the order scripts/test.sh runs them.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        Http1RequestTarget.Target,
        Http1ResponseTarget.Target,
        ChunkedTarget.Target,
        Http1DifferentialTarget.Target,
        Http2FrameTarget.Target,
        Http2ConnectionTarget.Target,
        HPackTarget.Target,
        DetectionTarget.Target,
        ConfigTarget.Target,
        SpiffeIdTarget.Target,
        PeerMetadataTarget.Target,
        TcpPeerExchangeTarget.Target,
        AuthorizationPathTarget.Target,
        PlantedBugTarget.Target,
    ];

    public static IEnumerable<string> Names => All.Select(t => t.Name);

    public static bool TryGet(string name, [NotNullWhen(true)] out FuzzTarget? target)
    {
        target = All.FirstOrDefault(t => t.Name == name);
        return target is not null;
    }
}
