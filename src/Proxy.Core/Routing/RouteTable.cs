using System.Diagnostics.CodeAnalysis;

namespace Proxy.Routing;

/// <summary>
/// The immutable, compiled routes of one listener. Matching returns the first route, in definition order,
/// whose every condition holds (first match wins), allocating nothing. A table is
/// built once per configuration snapshot and shared by all connections; swapping tables is the
/// snapshot's concern.
/// </summary>
/// <remarks>
/// Per-route policy is attached by position: <see cref="Route.Index"/> equals the index of the route's
/// <see cref="RouteDefinition"/>, so the caller keeps a parallel array (timeouts, retries, resolved clusters)
/// built from the same list. This keeps the table free of caller types without generics or casts.
/// </remarks>
public sealed class RouteTable
{
    private readonly Route[] _routes;
    private readonly HostRouteIndex _hosts;

    private RouteTable(Route[] routes)
    {
        _routes = routes;
        _hosts = HostRouteIndex.Build(routes);
    }

    /// <summary>A table with no routes: every request is unmatched.</summary>
    public static RouteTable Empty { get; } = new([]);

    /// <summary>The compiled routes in definition order (<c>Routes[i].Index == i</c>).</summary>
    public IReadOnlyList<Route> Routes => _routes;

    /// <summary>Validates and compiles <paramref name="definitions"/>.</summary>
    /// <exception cref="RouteTableBuildException">One or more definitions are invalid; every error is listed.</exception>
    public static RouteTable Build(IReadOnlyList<RouteDefinition> definitions)
    {
        if (!TryBuild(definitions, out RouteTable? table, out IReadOnlyList<RouteDefinitionError> errors))
        {
            throw new RouteTableBuildException(errors);
        }

        return table;
    }

    /// <summary>
    /// Validates and compiles <paramref name="definitions"/>, collecting every error instead of stopping at the
    /// first. On failure <paramref name="table"/> is null and <paramref name="errors"/> is non-empty.
    /// </summary>
    public static bool TryBuild(
        IReadOnlyList<RouteDefinition> definitions,
        [NotNullWhen(true)] out RouteTable? table,
        out IReadOnlyList<RouteDefinitionError> errors)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var collected = new List<RouteDefinitionError>();
        Route[] routes = RouteCompiler.Compile(definitions, collected);
        errors = collected;
        table = collected.Count == 0 ? new RouteTable(routes) : null;
        return table is not null;
    }

    /// <summary>
    /// Finds the first route matching <paramref name="request"/>, or null (the caller answers 404).
    /// Only the routes that can match the request's host are tried (see <see cref="HostRouteIndex"/>). Generic over the request view so struct and ref struct implementations are called without boxing.
    /// </summary>
    public Route? Match<TRequest>(scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        // Read the request's spans once; header lookups happen only for routes that got that far.
        ReadOnlySpan<byte> host = HostMatcher.Normalize(request.Host);
        ReadOnlySpan<byte> path = request.Path;
        ReadOnlySpan<byte> method = request.Method;

        Route[] routes = _hosts.CandidatesFor(host);
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
}
