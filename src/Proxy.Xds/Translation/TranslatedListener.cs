using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A Listener resource in the proxy's terms: its configuration without routes (an HTTP listener's come from
/// <see cref="RouteConfigName"/> over RDS, or inline in <see cref="InlineRoutes"/>), and the clusters a tcp_proxy
/// names.
/// </summary>
public sealed record TranslatedListener(ListenerConfig Config, string? RouteConfigName, TranslatedRouteConfiguration? InlineRoutes, IReadOnlyList<string> Clusters);
