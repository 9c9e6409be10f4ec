namespace Proxy.Configuration;

/// <summary>One target of a weighted split.</summary>
public sealed record WeightedClusterConfig
{
    /// <summary>Cluster name.</summary>
    public required string Cluster { get; init; }

    /// <summary>Relative weight, 1 or more.</summary>
    public required int Weight { get; init; }
}
