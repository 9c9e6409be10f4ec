namespace Proxy.Configuration;

/// <summary>Sidecar settings: the workload's identity and the inbound and outbound traffic paths.</summary>
public sealed record MeshConfig
{
    /// <summary>The workload certificate, key and mesh CA.</summary>
    public required MeshIdentityConfig Identity { get; init; }

    /// <summary>How long protocol detection waits for the first bytes (default 100ms).</summary>
    public TimeSpan DetectTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Destination ports never sniffed, forwarded as opaque TCP (server-first protocols).</summary>
    public IReadOnlyList<int> OpaquePorts { get; init; } = ConfigList<int>.Empty;

    /// <summary>Inbound side (traffic to the local app).</summary>
    public MeshInboundConfig Inbound { get; init; } = new();

    /// <summary>Outbound side (traffic from the local app).</summary>
    public MeshOutboundConfig Outbound { get; init; } = new();

    /// <summary>Who this workload is, for the metrics of both sides and the peer metadata exchange.</summary>
    public MeshWorkloadConfig Workload { get; init; } = new();
}
