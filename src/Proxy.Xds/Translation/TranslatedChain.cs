using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// One filter chain in the proxy's terms: which connections it takes (<see cref="Match"/>, null for the listener's
/// <c>default_filter_chain</c>), and its terminal as a listener configuration without routes (an HTTP chain's come
/// from <see cref="RouteConfigName"/> over RDS, or inline in <see cref="InlineRoutes"/>), with the clusters a
/// tcp_proxy or inline routes name; with downstream TLS, the SDS secrets it waits for and the inline PEM it carries.
/// </summary>
public sealed record TranslatedChain(FilterChainMatchConfig? Match, ListenerConfig Config, string? RouteConfigName, TranslatedRouteConfiguration? InlineRoutes, IReadOnlyList<string> Clusters)
{
    /// <summary>The SDS secrets (over ADS) the chain's TLS waits for: the listener is not bound until they arrived.</summary>
    public IReadOnlyList<SecretReference> Secrets { get; init; } = [];

    /// <summary>Inline PEM of the chain's TLS, held by the certificate store.</summary>
    public IReadOnlyList<InlineSecret> Inline { get; init; } = [];
}
