using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// Turns an LDS <c>Listener</c> (envoy.config.listener.v3) into the proxy's <see cref="ListenerConfig"/>: its
/// <c>address.socket_address</c>, and its filter chains, each ending with an <c>http_connection_manager</c> or a
/// <c>tcp_proxy</c>, chosen per connection by their <c>filter_chain_match</c> (one chain that takes every connection
/// is the listener itself, as in the file). What the proxy cannot honour is a rejection naming the field (docs/xds.md
/// lists them).
/// </summary>
public static class ListenerTranslator
{
    public const string HttpConnectionManagerType = FilterChainTranslator.HttpConnectionManagerType;

    public const string TcpProxyType = FilterChainTranslator.TcpProxyType;

    /// <summary>Listener filters the proxy does by itself (it detects TLS and HTTP on every connection it needs to).</summary>
    private static readonly string[] DetectionFilters =
    [
        "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector",
        "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
        "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
    ];

    /// <summary>Envoy's original_dst listener filter: chains match on the connection's destination before iptables redirected it.</summary>
    private static readonly string[] OriginalDstFilter =
    [
        "envoy.filters.listener.original_dst", "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
    ];

    /// <param name="context">What translation needs from the proxy's own configuration (its mesh identity, for istio-agent's secrets).</param>
    public static TranslatedListener Translate(Listener listener, XdsTranslationContext? context = null)
    {
        context ??= XdsTranslationContext.Empty;
        if (listener.Name.Length == 0)
        {
            throw new XdsRejectedException("a Listener has no name; every listener needs one");
        }

        var where = $"listener '{listener.Name}'";
        var address = Address(listener, where);
        RejectUnsupported(listener, where);
        var count = listener.FilterChains.Count;
        if (count == 0 && listener.DefaultFilterChain is null)
        {
            throw new XdsRejectedException($"{where}: filter_chains: a listener needs a filter chain");
        }

        var shell = new ListenerConfig
        {
            Name = listener.Name,
            Address = address,
            HttpFilters = null,
            ListenerFiltersTimeout = listener.ListenerFiltersTimeout is { } timeout ? XdsText.NonNegative(timeout, where, "listener_filters_timeout") : TimeSpan.FromSeconds(15),
            ContinueOnListenerFiltersTimeout = listener.ContinueOnListenerFiltersTimeout,
            // use_original_dst restores the original destination as the original_dst filter does, then hands over.
            OriginalDestination = HasOriginalDst(listener) || listener.UseOriginalDst == true,
            UseOriginalDestination = listener.UseOriginalDst == true,
            Bind = listener.BindToPort != false,
        };

        // One chain that every connection takes serves as the listener itself, exactly as a file listener does.
        if (count + (listener.DefaultFilterChain is null ? 0 : 1) == 1)
        {
            var only = count == 1 ? listener.FilterChains[0] : listener.DefaultFilterChain!;
            var field = count == 1 ? "filter_chains[0]" : "default_filter_chain";
            var match = count == 1 ? FilterChainMatchTranslator.Translate(only.FilterChainMatch, $"{where}: {field}") : FilterChainMatchConfig.Any;
            if (TakesEvery(match, address.Port))
            {
                var chain = FilterChainTranslator.Translate(only, null, listener.Name, address, $"{where}: {field}", context);
                chain = chain with
                {
                    Config = chain.Config with { OriginalDestination = shell.OriginalDestination, UseOriginalDestination = shell.UseOriginalDestination, Bind = shell.Bind },
                };
                return new TranslatedListener(chain.Config, [chain], Chained: false);
            }
        }

        var chains = new List<TranslatedChain>(count + 1);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var chain = listener.FilterChains[i];
            var field = $"filter_chains[{i}]";
            for (var j = 0; j < i; j++)
            {
                if (Equals(listener.FilterChains[j].FilterChainMatch ?? Empty, chain.FilterChainMatch ?? Empty))
                {
                    throw new XdsRejectedException($"{where}: {field}.filter_chain_match: the same as filter_chains[{j}]'s, so no connection could reach it; give each chain its own match");
                }
            }

            var match = FilterChainMatchTranslator.Translate(chain.FilterChainMatch, $"{where}: {field}");
            var name = $"{listener.Name}/{(chain.Name.Length > 0 && names.Add(chain.Name) ? chain.Name : field)}";
            chains.Add(FilterChainTranslator.Translate(chain, match, name, address, $"{where}: {field}", context));
        }

        if (listener.DefaultFilterChain is { } fallback)
        {
            chains.Add(FilterChainTranslator.Translate(fallback, null, $"{listener.Name}/default_filter_chain", address, $"{where}: default_filter_chain", context));
        }

        return new TranslatedListener(shell, chains, Chained: true);
    }

    private static readonly FilterChainMatch Empty = new();

    /// <summary>A match every connection of the listener passes: nothing, or only the listener's own port.</summary>
    private static bool TakesEvery(FilterChainMatchConfig match, int port) =>
        (match.DestinationPort is null || match.DestinationPort == port) && !match.NeedsInspection && match.PrefixRanges.Count == 0
        && match.DirectSourcePrefixRanges.Count == 0 && match.SourcePrefixRanges.Count == 0 && match.SourcePorts.Count == 0
        && match.SourceType == ConnectionSourceType.Any;

    private static HostPort Address(Listener listener, string where)
    {
        if (listener.Address?.SocketAddress is not { } socket)
        {
            throw new XdsRejectedException($"{where}: address: only socket_address is supported (no pipe or internal addresses)");
        }

        if (socket.Protocol != SocketAddress.Types.Protocol.Tcp)
        {
            throw new XdsRejectedException($"{where}: address.socket_address.protocol: only TCP listeners are supported");
        }

        if (socket.PortSpecifierCase != SocketAddress.PortSpecifierOneofCase.PortValue || socket.ResolverName.Length > 0)
        {
            throw new XdsRejectedException($"{where}: address.socket_address: give the port as port_value (named ports and resolvers are not supported)");
        }

        if (socket.PortValue > 65535 || !System.Net.IPAddress.TryParse(socket.Address, out _))
        {
            throw new XdsRejectedException($"{where}: address.socket_address: '{socket.Address}:{socket.PortValue}' is not an IP address and port to bind");
        }

        return new HostPort(socket.Address, (int)socket.PortValue);
    }

    private static void RejectUnsupported(Listener listener, string where)
    {
        if (listener.BindToPort == false && listener.UseOriginalDst == true)
        {
            throw new XdsRejectedException($"{where}: use_original_dst: a listener that does not bind (bind_to_port: false) accepts no connection to hand over; set one of them only");
        }

        if (listener.Transparent == true)
        {
            throw new XdsRejectedException($"{where}: transparent: transparent (TPROXY) sockets are not supported; the proxy takes redirected connections (proxy init) on ordinary listeners");
        }

        if (listener.AdditionalAddresses.Count > 0)
        {
            throw new XdsRejectedException($"{where}: additional_addresses: a listener binds one address; send one listener per address");
        }

        if (listener.ApiListener is not null || listener.UdpListenerConfig is not null)
        {
            throw new XdsRejectedException($"{where}: {(listener.ApiListener is not null ? "api_listener" : "udp_listener_config")}: not supported");
        }

        if (listener.FilterChainMatcher is not null)
        {
            throw new XdsRejectedException($"{where}: filter_chain_matcher: the matcher tree is not supported; choose chains with each chain's filter_chain_match");
        }

        for (var i = 0; i < listener.ListenerFilters.Count; i++)
        {
            var filter = listener.ListenerFilters[i];
            if (!IsOneOf(filter, DetectionFilters) && !IsOneOf(filter, OriginalDstFilter))
            {
                throw new XdsRejectedException($"{where}: listener_filters[{i}] '{filter.Name}': this listener filter is not supported (original_dst is, and tls_inspector and http_inspector are accepted: the proxy detects by itself)");
            }

            if (filter.FilterDisabled is not null && IsOneOf(filter, OriginalDstFilter))
            {
                throw new XdsRejectedException($"{where}: listener_filters[{i}] '{filter.Name}': filter_disabled: turning a listener filter off per connection is not supported");
            }
        }
    }

    private static bool IsOneOf(ListenerFilter filter, string[] names) =>
        Array.IndexOf(names, filter.Name) >= 0 || Array.IndexOf(names, filter.TypedConfig?.TypeUrl ?? "") >= 0;

    private static bool HasOriginalDst(Listener listener)
    {
        foreach (var filter in listener.ListenerFilters)
        {
            if (IsOneOf(filter, OriginalDstFilter))
            {
                return true;
            }
        }

        return false;
    }
}
