using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A Listener resource in the proxy's terms. When <see cref="Chained"/> is false its one chain serves every
/// connection and <see cref="Config"/> is that chain's configuration (as a file listener); otherwise
/// <see cref="Config"/> is the listener itself (name, address, listener filters) and <see cref="Chains"/> are chosen
/// per connection, in order, the default chain (no match) last.
/// </summary>
public sealed record TranslatedListener(ListenerConfig Config, IReadOnlyList<TranslatedChain> Chains, bool Chained)
{
    /// <summary>The route configurations the chains take over RDS, each once, in chain order.</summary>
    public IReadOnlyList<string> RouteConfigNames { get; } = [.. Chains.Select(static c => c.RouteConfigName).OfType<string>().Distinct(StringComparer.Ordinal)];

    /// <summary>The first of <see cref="RouteConfigNames"/>; null when no chain takes routes over RDS.</summary>
    public string? RouteConfigName => RouteConfigNames.Count > 0 ? RouteConfigNames[0] : null;

    /// <summary>The inline routes of a listener with one chain serving every connection.</summary>
    public TranslatedRouteConfiguration? InlineRoutes => Chained ? null : Chains[0].InlineRoutes;

    /// <summary>Every cluster the chains' tcp_proxy filters and inline routes name.</summary>
    public IReadOnlyList<string> Clusters { get; } = [.. Chains.SelectMany(static c => c.Clusters).Distinct(StringComparer.Ordinal)];
}
