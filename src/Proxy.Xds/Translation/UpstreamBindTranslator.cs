using System.Net;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds.Translation;

// additional_source_addresses is deprecated but still what older servers send; it must not be ignored.
#pragma warning disable CS0612

/// <summary>
/// A cluster's <c>upstream_bind_config</c>: the local address its connections are made from. Istio binds its inbound
/// clusters to 127.0.0.6 so the connection to the application is not intercepted again and the application sees a
/// loopback peer; ignoring it would change where traffic comes from, so what cannot be honoured is a rejection.
/// </summary>
public static class UpstreamBindTranslator
{
    public static IPAddress? Translate(XdsCluster cluster)
    {
        if (cluster.UpstreamBindConfig is not { } bind)
        {
            return null;
        }

        var name = cluster.Name;
        if (bind.Freebind == true || bind.SocketOptions.Count > 0 || bind.ExtraSourceAddresses.Count > 0 || bind.AdditionalSourceAddresses.Count > 0 || bind.LocalAddressSelector is not null)
        {
            throw ClusterTranslator.Reject(name, "upstream_bind_config", "only source_address is supported (not freebind, socket_options, extra or additional source addresses, or a local address selector)");
        }

        if (bind.SourceAddress is not { } source)
        {
            return null;
        }

        if (source.PortSpecifierCase == Envoy.Config.Core.V3.SocketAddress.PortSpecifierOneofCase.NamedPort || source.PortValue != 0)
        {
            throw ClusterTranslator.Reject(name, "upstream_bind_config.source_address", "a fixed source port is not supported (every connection would need the same one); leave port_value 0");
        }

        return IPAddress.TryParse(source.Address, out var address)
            ? address
            : throw ClusterTranslator.Reject(name, "upstream_bind_config.source_address.address", $"'{source.Address}' is not an IP address");
    }
}
