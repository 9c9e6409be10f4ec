using Envoy.Extensions.Filters.Network.TcpProxy.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// The <c>envoy.filters.network.tcp_proxy</c> network filter as a tcp listener: one cluster, and the idle timeout
/// (Envoy's default of one hour when unset, none when 0).
/// </summary>
internal static class TcpProxyTranslator
{
    public static ListenerConfig Translate(ListenerConfig listener, TcpProxy proxy, string where)
    {
        where += ": tcp_proxy";
        if (proxy.ClusterSpecifierCase == TcpProxy.ClusterSpecifierOneofCase.WeightedClusters)
        {
            throw new XdsRejectedException($"{where}: weighted_clusters: a tcp listener forwards to one cluster; send cluster");
        }

        if (proxy.Cluster.Length == 0)
        {
            throw new XdsRejectedException($"{where}: cluster: a tcp_proxy needs a cluster");
        }

        if (proxy.TunnelingConfig is not null)
        {
            throw new XdsRejectedException($"{where}: tunneling_config: tunnelling TCP over HTTP is not supported");
        }

        if (proxy.OnDemand is not null)
        {
            throw new XdsRejectedException($"{where}: on_demand: clusters discovered on demand are not supported");
        }

        if (proxy.MetadataMatch is not null)
        {
            throw new XdsRejectedException($"{where}: metadata_match: subset load balancing is not supported");
        }

        if (proxy.HashPolicy.Count > 0)
        {
            throw new XdsRejectedException($"{where}: hash_policy: per-listener hash policies are not supported; ring_hash and maglev clusters hash on the client's address");
        }

        var idle = proxy.IdleTimeout is { } timeout ? XdsText.NonNegative(timeout, where, "idle_timeout") : TimeSpan.FromHours(1);
        return listener with { Protocol = ListenerProtocol.Tcp, Cluster = proxy.Cluster, IdleTimeout = idle };
    }
}
