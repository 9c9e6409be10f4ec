namespace Proxy.Configuration;

/// <summary>Sends a copy of a share of requests to another cluster; the copy's response is discarded.</summary>
public sealed record MirrorConfig
{
    /// <summary>The cluster that receives the copies.</summary>
    public required string Cluster { get; init; }

    /// <summary>Share of requests mirrored, 0-100 (default 100).</summary>
    public double Percent { get; init; } = 100;
}
