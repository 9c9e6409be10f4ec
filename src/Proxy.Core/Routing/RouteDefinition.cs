namespace Proxy.Routing;

/// <summary>
/// The input form of one HTTP route: a match and an action (one cluster or a weighted split).
/// The configuration layer maps its model onto these records; <see cref="RouteTable.Build(IReadOnlyList{RouteDefinition})"/>
/// validates them and compiles them into <see cref="Route"/> objects.
/// </summary>
/// <remarks>
/// Per-route policy (timeouts, retries) is deliberately not carried here: the compiled
/// <see cref="Route.Index"/> equals this definition's position in the list given to
/// <see cref="RouteTable.Build(IReadOnlyList{RouteDefinition})"/>, so the caller keeps its own policy array in the same order.
/// </remarks>
public sealed record RouteDefinition
{
    /// <summary>Optional name used in logs and metrics; "route-N" (N = position) when null. Must be unique when set.</summary>
    public string? Name { get; init; }

    /// <summary>What a request must look like to take this route; every part set must match.</summary>
    public RouteMatchDefinition Match { get; init; } = RouteMatchDefinition.Any;

    /// <summary>The single cluster the route sends to. Exactly one of <see cref="Cluster"/> and <see cref="Split"/> is set.</summary>
    public string? Cluster { get; init; }

    /// <summary>A weighted split over clusters. Exactly one of <see cref="Cluster"/> and <see cref="Split"/> is set.</summary>
    public IReadOnlyList<WeightedClusterDefinition>? Split { get; init; }

    /// <summary>
    /// The route answers by itself (a redirect or a direct response) and names no cluster: neither
    /// <see cref="Cluster"/> nor <see cref="Split"/> is set, and the compiled route has no clusters.
    /// </summary>
    public bool AnswersLocally { get; init; }
}
