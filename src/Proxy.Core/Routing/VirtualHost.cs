namespace Proxy.Routing;

/// <summary>
/// One compiled virtual host: its domains and its routes, with the index that narrows those routes by
/// <c>match.host</c>. Immutable and shared by all connections, like the <see cref="RouteTable"/> that holds it.
/// </summary>
public sealed class VirtualHost
{
    private readonly Route[] _routes;

    internal VirtualHost(int index, string name, IReadOnlyList<string> domains, Route[] routes)
    {
        Index = index;
        Name = name;
        Domains = domains;
        _routes = routes;
        Hosts = HostRouteIndex.Build(routes);
    }

    /// <summary>Position of the virtual host's definition; the caller's per-virtual-host policy is kept by it.</summary>
    public int Index { get; }

    /// <summary>The configured name, or "virtual-host-N".</summary>
    public string Name { get; }

    /// <summary>The domains as configured.</summary>
    public IReadOnlyList<string> Domains { get; }

    /// <summary>The routes in definition order.</summary>
    public IReadOnlyList<Route> Routes => _routes;

    /// <summary>Narrows the routes by the request host for routes that also set <c>match.host</c>.</summary>
    internal HostRouteIndex Hosts { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
