namespace Proxy.Configuration;

/// <summary>
/// A group of a listener's routes chosen by the request's Host (Envoy's <c>VirtualHost</c>): its domains, its routes
/// (tried in order, the first match wins) and defaults for those routes.
/// </summary>
/// <remarks>
/// A listener's plain <c>routes</c> behave as one virtual host with domains <c>["*"]</c> and no defaults
/// (<see cref="ForPlainRoutes"/>). Settings that apply to every route of the virtual host belong here, beside
/// <see cref="Retries"/> and <see cref="Timeout"/>; the snapshot compiler reads them by the compiled route's
/// <c>VirtualHostIndex</c>.
/// </remarks>
public sealed record VirtualHostConfig
{
    /// <summary>Unique name within the listener, for logs and errors.</summary>
    public required string Name { get; init; }

    /// <summary>Hosts this virtual host answers: exact, <c>*.suffix</c>, <c>prefix.*</c> or <c>*</c>, each with an optional <c>:port</c>.</summary>
    public IReadOnlyList<string> Domains { get; init; } = ConfigList<string>.Empty;

    /// <summary>The routes, tried in order; the first match wins.</summary>
    public IReadOnlyList<RouteConfig> Routes { get; init; } = ConfigList<RouteConfig>.Empty;

    /// <summary>Retry policy of the routes that set none; null for none.</summary>
    public RetryConfig? Retries { get; init; }

    /// <summary>Whole-request timeout of the routes that set none; null for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Changes to the request fields of every route here, after the route's and before the listener's; null for none.</summary>
    public HeaderChangesConfig? RequestHeaders { get; init; }

    /// <summary>Changes to the response fields of every route here, after the route's and before the listener's; null for none.</summary>
    public HeaderChangesConfig? ResponseHeaders { get; init; }

    /// <summary>The one virtual host, <c>*</c> with no defaults, that a listener's plain <c>routes</c> form.</summary>
    public static VirtualHostConfig ForPlainRoutes(IReadOnlyList<RouteConfig> routes) =>
        new() { Name = "default", Domains = new ConfigList<string>(["*"]), Routes = routes };
}
