using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Envoy.Extensions.Filters.Network.TcpProxy.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// Turns an LDS <c>Listener</c> (envoy.config.listener.v3) into the proxy's <see cref="ListenerConfig"/>: its
/// <c>address.socket_address</c>, and its one filter chain, which ends with an <c>http_connection_manager</c> or a
/// <c>tcp_proxy</c>. Several filter chains, chain matching beyond the listener's own port, downstream TLS and
/// original-destination hand-off are rejections naming the field (docs/xds.md lists them).
/// </summary>
public static class ListenerTranslator
{
    public const string HttpConnectionManagerType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

    public const string TcpProxyType = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

    /// <summary>Listener filters the proxy does by itself (it detects TLS and HTTP on every connection it needs to).</summary>
    private static readonly string[] DetectionFilters =
    [
        "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector",
        "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
        "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
    ];

    /// <summary>Network filters that only observe (Istio's stats and metadata exchange): skipped.</summary>
    private static readonly string[] TelemetryFilters = ["istio.metadata_exchange", "istio.stats", "envoy.filters.network.metadata_exchange"];

    public static TranslatedListener Translate(Listener listener)
    {
        if (listener.Name.Length == 0)
        {
            throw new XdsRejectedException("a Listener has no name; every listener needs one");
        }

        var where = $"listener '{listener.Name}'";
        var address = Address(listener, where);
        RejectUnsupported(listener, where);
        var chain = FilterChain(listener, address.Port, where, out var chainField);
        where += $": {chainField}";
        if (chain.TransportSocket is not null)
        {
            throw new XdsRejectedException($"{where}.transport_socket: downstream TLS from a management server is not supported yet; define a TLS listener in the configuration file");
        }

        Filter? terminal = null;
        for (var i = 0; i < chain.Filters.Count; i++)
        {
            var filter = chain.Filters[i];
            var typeUrl = filter.TypedConfig?.TypeUrl ?? "";
            if (typeUrl is HttpConnectionManagerType or TcpProxyType)
            {
                if (i != chain.Filters.Count - 1)
                {
                    throw new XdsRejectedException($"{where}.filters[{i}] '{filter.Name}': a terminal filter must be the last of the chain");
                }

                terminal = filter;
            }
            else if (Array.IndexOf(TelemetryFilters, filter.Name) < 0)
            {
                throw new XdsRejectedException($"{where}.filters[{i}] '{filter.Name}': the network filter {(typeUrl.Length > 0 ? typeUrl : filter.Name)} is not supported; a chain ends with envoy.filters.network.http_connection_manager or envoy.filters.network.tcp_proxy");
            }
        }

        if (terminal is null)
        {
            throw new XdsRejectedException($"{where}.filters: the chain needs an envoy.filters.network.http_connection_manager or envoy.filters.network.tcp_proxy, with its typed_config");
        }

        var config = new ListenerConfig { Name = listener.Name, Address = address, HttpFilters = null };
        if (terminal.TypedConfig!.TypeUrl == TcpProxyType)
        {
            var tcp = TcpProxyTranslator.Translate(config, Parse(terminal, TcpProxy.Parser, where), where);
            return new TranslatedListener(tcp, null, null, [tcp.Cluster!]);
        }

        var (http, rds, inline) = HttpConnectionManagerTranslator.Translate(config, Parse(terminal, HttpConnectionManager.Parser, where), where);
        return new TranslatedListener(http, rds, inline, inline?.Clusters ?? []);
    }

    private static T Parse<T>(Filter filter, Google.Protobuf.MessageParser<T> parser, string where)
        where T : Google.Protobuf.IMessage<T>, new() =>
        XdsDecoder.Decode(parser, filter.TypedConfig.Value, $"{where}: filter '{filter.Name}': its typed_config");

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
        if (listener.UseOriginalDst == true)
        {
            throw new XdsRejectedException($"{where}: use_original_dst: handing connections to the listener of their original destination is not supported yet");
        }

        if (listener.BindToPort == false)
        {
            throw new XdsRejectedException($"{where}: bind_to_port: listeners that do not bind (reached through use_original_dst) are not supported yet");
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
            throw new XdsRejectedException($"{where}: filter_chain_matcher: the matcher tree is not supported; send one filter chain");
        }

        for (var i = 0; i < listener.ListenerFilters.Count; i++)
        {
            var filter = listener.ListenerFilters[i];
            if (Array.IndexOf(DetectionFilters, filter.Name) < 0 && Array.IndexOf(DetectionFilters, filter.TypedConfig?.TypeUrl ?? "") < 0)
            {
                throw new XdsRejectedException($"{where}: listener_filters[{i}] '{filter.Name}': this listener filter is not supported yet (tls_inspector and http_inspector are accepted: the proxy detects by itself)");
            }
        }
    }

    /// <summary>The one filter chain; a chain match is accepted only when every connection of the listener passes it.</summary>
    private static FilterChain FilterChain(Listener listener, int port, string where, out string field)
    {
        var chains = listener.FilterChains.Count + (listener.DefaultFilterChain is null ? 0 : 1);
        if (chains == 0)
        {
            throw new XdsRejectedException($"{where}: filter_chains: a listener needs a filter chain");
        }

        if (chains > 1)
        {
            throw new XdsRejectedException($"{where}: filter_chains: {chains} filter chains (default_filter_chain included) need filter_chain_match to choose between them, which is not supported yet; send one filter chain per listener");
        }

        if (listener.DefaultFilterChain is { } fallback)
        {
            field = "default_filter_chain";
            return fallback;
        }

        field = "filter_chains[0]";
        var chain = listener.FilterChains[0];
        if (chain.FilterChainMatch is { } match)
        {
            // Conditions every connection meets (its own port, plain text) change nothing; any other would drop
            // the connections that miss it, which the proxy cannot do yet.
            var samePort = match.DestinationPort is null || match.DestinationPort == port;
            var plain = match.TransportProtocol is "" or "raw_buffer";
            if (!samePort || !plain || match.PrefixRanges.Count > 0 || match.SourcePrefixRanges.Count > 0 || match.DirectSourcePrefixRanges.Count > 0
                || match.SourcePorts.Count > 0 || match.ServerNames.Count > 0 || match.ApplicationProtocols.Count > 0 || match.AddressSuffix.Length > 0
                || match.SourceType != FilterChainMatch.Types.ConnectionSourceType.Any)
            {
                throw new XdsRejectedException($"{where}: filter_chains[0].filter_chain_match: matching connections on {Describe(match, port)} is not supported yet; leave filter_chain_match empty");
            }
        }

        return chain;
    }

    private static string Describe(FilterChainMatch match, int port)
    {
        var parts = new List<string>();
        if (match.DestinationPort is { } p && p != port)
        {
            parts.Add("destination_port");
        }

        if (match.TransportProtocol is not ("" or "raw_buffer"))
        {
            parts.Add($"transport_protocol '{match.TransportProtocol}'");
        }

        if (match.ServerNames.Count > 0)
        {
            parts.Add("server_names");
        }

        if (match.ApplicationProtocols.Count > 0)
        {
            parts.Add("application_protocols");
        }

        if (match.PrefixRanges.Count > 0 || match.SourcePrefixRanges.Count > 0 || match.DirectSourcePrefixRanges.Count > 0 || match.AddressSuffix.Length > 0)
        {
            parts.Add("address ranges");
        }

        if (match.SourcePorts.Count > 0 || match.SourceType != FilterChainMatch.Types.ConnectionSourceType.Any)
        {
            parts.Add("the source");
        }

        return string.Join(", ", parts);
    }
}
