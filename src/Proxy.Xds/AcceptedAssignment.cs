using Envoy.Config.Endpoint.V3;
using Proxy.Configuration;

namespace Proxy.Xds;

/// <summary>One accepted ClusterLoadAssignment and the endpoints made of it.</summary>
public sealed record AcceptedAssignment(ClusterLoadAssignment Resource, IReadOnlyList<EndpointConfig> Endpoints, string Version, DateTimeOffset LastUpdated)
{
    /// <summary>Beside each endpoint, its <c>envoy.transport_socket_match</c> metadata (for transport_socket_matches), or null.</summary>
    public IReadOnlyList<Google.Protobuf.WellKnownTypes.Struct?> SocketMetadata { get; init; } = [];
}
