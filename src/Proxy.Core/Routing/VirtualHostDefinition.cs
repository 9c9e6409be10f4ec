namespace Proxy.Routing;

/// <summary>
/// The input form of one virtual host (Envoy's <c>VirtualHost</c>): the domains it answers and its routes, tried in
/// order. <see cref="RouteTable.BuildVirtualHosts"/> validates and compiles it.
/// </summary>
/// <remarks>
/// Per-virtual-host policy (retry and timeout defaults, header changes) is not carried here, as per-route policy is
/// not: the compiled <see cref="VirtualHost.Index"/> is this definition's position, and each route's
/// <see cref="Route.VirtualHostIndex"/> points back to it, so the caller keeps its own parallel array.
/// </remarks>
public sealed record VirtualHostDefinition
{
    /// <summary>Name for logs and errors; "virtual-host-N" (N = position) when null.</summary>
    public string? Name { get; init; }

    /// <summary>Domains: exact, "*.suffix", "prefix.*" or "*", each with an optional ":port" (see <see cref="DomainPattern"/>).</summary>
    public IReadOnlyList<string> Domains { get; init; } = [];

    /// <summary>The routes, tried in order; the first match wins.</summary>
    public IReadOnlyList<RouteDefinition> Routes { get; init; } = [];
}
