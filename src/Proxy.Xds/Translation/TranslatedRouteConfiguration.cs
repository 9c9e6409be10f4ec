using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A RouteConfiguration in the proxy's terms: the virtual hosts a listener serves, the header changes every route of
/// it makes (the listener-wide ones), and every cluster its routes name (placeholders are made for those no one
/// defines yet).
/// </summary>
public sealed record TranslatedRouteConfiguration(
    IReadOnlyList<VirtualHostConfig> VirtualHosts,
    HeaderChangesConfig? RequestHeaders,
    HeaderChangesConfig? ResponseHeaders,
    IReadOnlyList<string> Clusters);
