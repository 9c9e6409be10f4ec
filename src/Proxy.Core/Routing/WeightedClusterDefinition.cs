namespace Proxy.Routing;

/// <summary>One arm of a weighted split: a cluster name and its relative weight (0 allowed, the total must be positive).</summary>
/// <param name="Cluster">Name of the cluster.</param>
/// <param name="Weight">Relative share of requests.</param>
public sealed record WeightedClusterDefinition(string Cluster, int Weight);
