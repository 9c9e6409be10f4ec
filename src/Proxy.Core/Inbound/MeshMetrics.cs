using Proxy.Observability.Metrics;

namespace Proxy.Inbound;

/// <summary>Sidecar metrics, labelled the way Istio dashboards expect (source/destination principal, connection_security_policy).</summary>
public sealed class MeshMetrics(MetricsRegistry registry)
{
    /// <summary>Inbound connections by peer, local identity, security policy and destination port.</summary>
    public CounterFamily InboundConnections { get; } = registry.Counter(
        "proxy_mesh_inbound_connections_total", "Inbound sidecar connections.",
        "source_principal", "destination_principal", "connection_security_policy", "destination_port");

    /// <summary>Inbound requests or connections refused by authorization or by strict mode.</summary>
    public CounterFamily InboundDenied { get; } = registry.Counter(
        "proxy_mesh_inbound_denied_total", "Inbound connections or requests refused.",
        "source_principal", "destination_port", "reason");

    /// <summary>Outbound connections by destination service and security policy.</summary>
    public CounterFamily OutboundConnections { get; } = registry.Counter(
        "proxy_mesh_outbound_connections_total", "Outbound sidecar connections.",
        "source_principal", "destination_principal", "destination_service", "connection_security_policy");
}
