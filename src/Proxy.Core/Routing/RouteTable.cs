using System.Diagnostics.CodeAnalysis;

namespace Proxy.Routing;

/// <summary>
/// The immutable, compiled routes of one listener, grouped in virtual hosts. Matching picks the virtual host by the
/// request's Host (<see cref="VirtualHostIndex"/>: exact, longest suffix wildcard, longest prefix wildcard, "*"),
/// then returns the first of its routes, in definition order, whose every condition holds (first match wins),
/// allocating nothing. A table built from plain routes has one virtual host, "*". A table is built once per
/// configuration snapshot and shared by all connections; swapping tables is the snapshot's concern.
/// </summary>
/// <remarks>
/// Per-route policy is attached by position: <see cref="Route.Index"/> is the route's position in the routes of all
/// virtual hosts laid end to end (for plain routes, the index of its <see cref="RouteDefinition"/>), so the caller
/// keeps a parallel array (timeouts, retries, resolved clusters) built in the same order; per-virtual-host policy
/// likewise by <see cref="Route.VirtualHostIndex"/>. This keeps the table free of caller types without generics or casts.
/// </remarks>
public sealed class RouteTable
{
    private readonly Route[] _routes;
    private readonly VirtualHost[] _virtualHosts;
    private readonly VirtualHostIndex _index;

    private RouteTable(Route[] routes, VirtualHost[] virtualHosts, VirtualHostIndex index)
    {
        _routes = routes;
        _virtualHosts = virtualHosts;
        _index = index;
    }

    /// <summary>A table with no routes: every request is unmatched.</summary>
    public static RouteTable Empty { get; } = Build(Array.Empty<RouteDefinition>());

    /// <summary>The compiled routes of every virtual host, end to end (<c>Routes[i].Index == i</c>).</summary>
    public IReadOnlyList<Route> Routes => _routes;

    /// <summary>The virtual hosts in definition order (<c>VirtualHosts[i].Index == i</c>).</summary>
    public IReadOnlyList<VirtualHost> VirtualHosts => _virtualHosts;

    /// <summary>Validates and compiles plain routes, as one virtual host whose domain is "*".</summary>
    /// <exception cref="RouteTableBuildException">One or more definitions are invalid; every error is listed.</exception>
    public static RouteTable Build(IReadOnlyList<RouteDefinition> definitions) => BuildVirtualHosts(AsOneVirtualHost(definitions));

    /// <summary>Validates and compiles virtual hosts.</summary>
    /// <exception cref="RouteTableBuildException">One or more definitions are invalid; every error is listed.</exception>
    public static RouteTable BuildVirtualHosts(IReadOnlyList<VirtualHostDefinition> virtualHosts)
    {
        if (!TryBuildVirtualHosts(virtualHosts, out RouteTable? table, out IReadOnlyList<RouteDefinitionError> errors))
        {
            throw new RouteTableBuildException(errors);
        }

        return table;
    }

    /// <summary>
    /// Validates and compiles <paramref name="definitions"/> (one virtual host, "*"), collecting every error instead of
    /// stopping at the first. On failure <paramref name="table"/> is null and <paramref name="errors"/> is non-empty.
    /// </summary>
    public static bool TryBuild(
        IReadOnlyList<RouteDefinition> definitions,
        [NotNullWhen(true)] out RouteTable? table,
        out IReadOnlyList<RouteDefinitionError> errors) =>
        TryBuildVirtualHosts(AsOneVirtualHost(definitions), out table, out errors);

    /// <summary>Validates and compiles <paramref name="virtualHosts"/>, collecting every error.</summary>
    public static bool TryBuildVirtualHosts(
        IReadOnlyList<VirtualHostDefinition> virtualHosts,
        [NotNullWhen(true)] out RouteTable? table,
        out IReadOnlyList<RouteDefinitionError> errors)
    {
        ArgumentNullException.ThrowIfNull(virtualHosts);
        var collected = new List<RouteDefinitionError>();
        (VirtualHost[] hosts, Route[] routes, DomainPattern[][] domains) = VirtualHostCompiler.Compile(virtualHosts, collected);
        errors = collected;
        table = collected.Count == 0 ? new RouteTable(routes, hosts, VirtualHostIndex.Build(domains)) : null;
        return table is not null;
    }

    /// <summary>
    /// Finds the first route matching <paramref name="request"/>, or null (the caller answers 404): no virtual host
    /// takes the request's Host, or none of its routes matches. Only the routes that can match the request's host
    /// are tried (see <see cref="HostRouteIndex"/>). Generic over the request view so struct and ref struct
    /// implementations are called without boxing.
    /// </summary>
    public Route? Match<TRequest>(scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        // Read the request's spans once; header and query lookups happen only for routes that got that far.
        int port = RequestAuthority.Split(request.Host, out ReadOnlySpan<byte> host);
        int virtualHost = _index.Find(host, port);
        if (virtualHost < 0)
        {
            return null;
        }

        ReadOnlySpan<byte> path = request.Path;
        ReadOnlySpan<byte> method = request.Method;
        Route[] routes = _virtualHosts[virtualHost].Hosts.CandidatesFor(host);
        for (int i = 0; i < routes.Length; i++)
        {
            Route route = routes[i];
            if (route.Matches(host, path, method, ref request))
            {
                return route;
            }
        }

        return null;
    }

    private static VirtualHostDefinition[] AsOneVirtualHost(IReadOnlyList<RouteDefinition> definitions)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        return [new VirtualHostDefinition { Name = "default", Domains = ["*"], Routes = definitions }];
    }
}
