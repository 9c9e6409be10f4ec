using Envoy.Config.Route.V3;
using Proxy.Xds.Translation;

namespace Proxy.Xds;

/// <summary>One accepted RouteConfiguration: the resource as sent, its translation, and the version and time it arrived with.</summary>
public sealed record AcceptedRouteConfiguration(RouteConfiguration Resource, TranslatedRouteConfiguration Translated, string Version, DateTimeOffset LastUpdated);
