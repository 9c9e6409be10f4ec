namespace Proxy.Configuration;

/// <summary>
/// An SDS server other than the management server (<c>xds.secret_servers</c>): the name the resources give it (the
/// <c>envoy_grpc.cluster_name</c> of their <c>sds_config.api_config_source</c>, Istio's <c>sds-grpc</c>) and where it
/// listens (istio-agent's <c>unix:./var/run/secrets/workload-spiffe-uds/socket</c>).
/// </summary>
public sealed record XdsSecretServerConfig(string Name, XdsServerAddress Address);
