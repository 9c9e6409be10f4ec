using Envoy.Config.Core.V3;
using Envoy.Config.Endpoint.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// Turns a <c>ClusterLoadAssignment</c> into the endpoints a cluster balances over. The runtime has one flat set of
/// weighted endpoints per cluster, so priorities become failover by whole levels: the lowest priority with a usable
/// endpoint serves, the others wait (Envoy spills over gradually by the overprovisioning factor; this proxy does not).
/// Locality weights only matter under locality-weighted balancing, which a cluster asking for it is rejected for.
/// </summary>
public static class LoadAssignmentTranslator
{
    /// <param name="owner">The cluster (or EDS service name) the assignment belongs to, for the rejection's sentence.</param>
    public static IReadOnlyList<EndpointConfig> Translate(ClusterLoadAssignment assignment, string owner) => TranslateWithMetadata(assignment, owner).Endpoints;

    /// <summary>
    /// The endpoints, and beside each its <c>envoy.transport_socket_match</c> metadata (the endpoint's, else its
    /// locality's, else null), which a cluster's transport_socket_matches choose its TLS by.
    /// </summary>
    public static (IReadOnlyList<EndpointConfig> Endpoints, IReadOnlyList<Struct?> SocketMetadata) TranslateWithMetadata(ClusterLoadAssignment assignment, string owner)
    {
        // Per priority: the endpoints that take traffic (HEALTHY, UNKNOWN), and the DEGRADED ones used only when a
        // priority has nothing better (Envoy's degraded hosts). UNHEALTHY, DRAINING and TIMEOUT take none.
        var byPriority = new SortedDictionary<uint, (List<(EndpointConfig, Struct?)> Usable, List<(EndpointConfig, Struct?)> Degraded)>();
        var seen = new HashSet<HostPort>();
        for (var l = 0; l < assignment.Endpoints.Count; l++)
        {
            var locality = assignment.Endpoints[l];
            if (!byPriority.TryGetValue(locality.Priority, out var level))
            {
                level = ([], []);
                byPriority.Add(locality.Priority, level);
            }

            for (var e = 0; e < locality.LbEndpoints.Count; e++)
            {
                var lbEndpoint = locality.LbEndpoints[e];
                var field = $"endpoints[{l}].lb_endpoints[{e}]";
                if (lbEndpoint.HostIdentifierCase != LbEndpoint.HostIdentifierOneofCase.Endpoint)
                {
                    throw Reject(owner, field, "named endpoints (endpoint_name) are not supported; give the endpoint's address");
                }

                var address = Address(lbEndpoint.Endpoint.Address, owner, field + ".endpoint.address");
                var weight = lbEndpoint.LoadBalancingWeight ?? 1;
                if (weight == 0)
                {
                    throw Reject(owner, field + ".load_balancing_weight", "a weight must be 1 or more");
                }

                if (!seen.Add(address))
                {
                    throw Reject(owner, field, $"endpoint {address} is listed twice");
                }

                var endpoint = (new EndpointConfig { Address = address, Weight = (int)Math.Min(weight, 1_000_000) }, SocketMetadata(lbEndpoint.Metadata) ?? SocketMetadata(locality.Metadata));
                switch (lbEndpoint.HealthStatus)
                {
                    case HealthStatus.Healthy or HealthStatus.Unknown:
                        level.Usable.Add(endpoint);
                        break;
                    case HealthStatus.Degraded:
                        level.Degraded.Add(endpoint);
                        break;
                }
            }
        }

        foreach (var (_, level) in byPriority)
        {
            if (level.Usable.Count > 0)
            {
                return Split(level.Usable);
            }

            if (level.Degraded.Count > 0)
            {
                return Split(level.Degraded);
            }
        }

        return (ConfigList<EndpointConfig>.Empty, []);
    }

    private static (IReadOnlyList<EndpointConfig>, IReadOnlyList<Struct?>) Split(List<(EndpointConfig Endpoint, Struct? Metadata)> level) =>
        (new ConfigList<EndpointConfig>([.. level.Select(static e => e.Endpoint)]), [.. level.Select(static e => e.Metadata)]);

    private static Struct? SocketMetadata(Metadata? metadata) =>
        metadata is not null && metadata.FilterMetadata.TryGetValue(ClusterTransportSockets.MetadataFilter, out var match) ? match : null;

    private static HostPort Address(Address? address, string owner, string field)
    {
        if (address is null || address.AddressCase != Envoy.Config.Core.V3.Address.AddressOneofCase.SocketAddress)
        {
            throw Reject(owner, field, "only socket addresses (address and port_value) are supported");
        }

        var socket = address.SocketAddress;
        if (socket.Protocol != SocketAddress.Types.Protocol.Tcp)
        {
            throw Reject(owner, field + ".protocol", "only TCP endpoints are supported");
        }

        if (socket.PortSpecifierCase != SocketAddress.PortSpecifierOneofCase.PortValue || socket.PortValue is 0 or > 65535)
        {
            throw Reject(owner, field + ".port_value", "needs a port from 1 to 65535 (named ports are not supported)");
        }

        if (socket.ResolverName.Length > 0)
        {
            throw Reject(owner, field + ".resolver_name", "custom resolvers are not supported");
        }

        var host = socket.Address.StartsWith('[') && socket.Address.EndsWith(']') ? socket.Address[1..^1] : socket.Address;
        var text = host.Contains(':') ? $"[{host}]:{socket.PortValue}" : $"{host}:{socket.PortValue}";
        return HostPort.TryParse(text, out var value, out var error) ? value : throw Reject(owner, field + ".address", error);
    }

    private static XdsRejectedException Reject(string owner, string field, string why) =>
        new($"ClusterLoadAssignment '{owner}': {field}: {why}");
}
