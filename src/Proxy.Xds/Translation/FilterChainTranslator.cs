using Envoy.Config.Listener.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Envoy.Extensions.Filters.Network.TcpProxy.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// One filter chain's network filters as a listener configuration: observing filters skipped, network RBAC filters
/// (<see cref="NetworkRbacTranslator"/>) judged on each connection, and the terminal one, last, an
/// <c>http_connection_manager</c> or a <c>tcp_proxy</c>.
/// </summary>
internal static class FilterChainTranslator
{
    public const string HttpConnectionManagerType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

    public const string TcpProxyType = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

    public const string NetworkRbacType = "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC";

    /// <summary>Network filters that only observe (Istio's stats and metadata exchange): skipped.</summary>
    private static readonly string[] TelemetryFilters = ["istio.metadata_exchange", "istio.stats", "envoy.filters.network.metadata_exchange"];

    /// <param name="name">The chain's configuration name: the listener's for a listener with one chain serving everything, else unique per chain.</param>
    public static TranslatedChain Translate(FilterChain chain, FilterChainMatchConfig? match, string name, HostPort address, string where, XdsTranslationContext context)
    {
        TlsServerConfig? tls = null;
        List<SecretReference> secrets = [];
        List<InlineSecret> inline = [];
        if (chain.TransportSocket is { } socket)
        {
            // "listener 'x': filter_chains[0]" splits into the owner and the field for the TLS translator's sentences.
            var colon = where.IndexOf(": ", StringComparison.Ordinal);
            (tls, secrets, inline) = DownstreamTlsTranslator.Translate(socket, where[..colon], where[(colon + 2)..] + ".transport_socket", context);
        }

        Filter? terminal = null;
        var rbac = new List<Proxy.Filters.Rbac.RbacEngine>();
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
            else if (typeUrl == NetworkRbacType)
            {
                if (terminal is null && NetworkRbacTranslator.Translate(Parse(filter, Envoy.Extensions.Filters.Network.Rbac.V3.RBAC.Parser, where), filter.Name, tls is not null, $"{where}.filters[{i}] '{filter.Name}'") is { } engine)
                {
                    rbac.Add(engine);
                }
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

        var config = new ListenerConfig { Name = name, Address = address, HttpFilters = null, Tls = tls, NetworkRbac = rbac };
        if (terminal.TypedConfig!.TypeUrl == TcpProxyType)
        {
            var tcp = TcpProxyTranslator.Translate(config, Parse(terminal, TcpProxy.Parser, where), where);
            return new TranslatedChain(match, tcp, null, null, [tcp.Cluster!]) { Secrets = secrets, Inline = inline };
        }

        var (http, rds, routes) = HttpConnectionManagerTranslator.Translate(config, Parse(terminal, HttpConnectionManager.Parser, where), where);
        return new TranslatedChain(match, http, rds, routes, routes?.Clusters ?? []) { Secrets = secrets, Inline = inline };
    }

    private static T Parse<T>(Filter filter, Google.Protobuf.MessageParser<T> parser, string where)
        where T : Google.Protobuf.IMessage<T>, new() =>
        XdsDecoder.Decode(parser, filter.TypedConfig.Value, $"{where}: filter '{filter.Name}': its typed_config");
}
