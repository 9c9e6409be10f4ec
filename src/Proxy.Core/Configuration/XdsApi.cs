namespace Proxy.Configuration;

/// <summary>
/// Which variant of the aggregated discovery protocol the proxy speaks (<c>xds.api</c>), as Envoy's
/// <c>api_type: AGGREGATED_GRPC</c> and <c>AGGREGATED_DELTA_GRPC</c> (xds_protocol, "Variants of the xDS Transport Protocol").
/// </summary>
public enum XdsApi
{
    /// <summary>State of the world: every response of a type carries all of its resources (<c>StreamAggregatedResources</c>).</summary>
    StateOfTheWorld,

    /// <summary>Incremental: responses carry the resources that changed and the names removed (<c>DeltaAggregatedResources</c>).</summary>
    Delta,
}
