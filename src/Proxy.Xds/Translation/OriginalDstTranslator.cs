using Proxy.Configuration;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds.Translation;

/// <summary>
/// An <c>ORIGINAL_DST</c> cluster (Istio's <c>PassthroughCluster</c>, <c>InboundPassthroughCluster</c> and inbound
/// clusters): endpoints are the destinations the clients' connections were going to, so the cluster itself lists none
/// and balances nothing (Envoy requires <c>lb_policy: CLUSTER_PROVIDED</c>).
/// </summary>
public static class OriginalDstTranslator
{
    public static OriginalDestinationConfig Translate(XdsCluster cluster)
    {
        var name = cluster.Name;
        if (cluster.LbPolicy is not (XdsCluster.Types.LbPolicy.ClusterProvided or XdsCluster.Types.LbPolicy.RoundRobin))
        {
            // ROUND_ROBIN is the proto's default (an unset field); Envoy itself insists on CLUSTER_PROVIDED, and any
            // other policy would promise a balancing the cluster cannot do.
            throw ClusterTranslator.Reject(name, "lb_policy", $"an ORIGINAL_DST cluster connects to each connection's own destination, so it cannot balance with {cluster.LbPolicy}; use CLUSTER_PROVIDED");
        }

        if (cluster.LoadAssignment is { Endpoints.Count: > 0 })
        {
            throw ClusterTranslator.Reject(name, "load_assignment", "an ORIGINAL_DST cluster takes its endpoints from the connections' destinations; remove the endpoints");
        }

        var config = new OriginalDestinationConfig();
        if (cluster.OriginalDstLbConfig is { } options)
        {
            if (options.UseHttpHeader || options.HttpHeaderName.Length > 0)
            {
                throw ClusterTranslator.Reject(name, "original_dst_lb_config.use_http_header", "choosing the destination from a request header (x-envoy-original-dst-host) is not supported; the proxy uses the connection's original destination");
            }

            if (options.MetadataKey is not null)
            {
                throw ClusterTranslator.Reject(name, "original_dst_lb_config.metadata_key", "choosing the destination from metadata is not supported");
            }

            if (options.UpstreamPortOverride is { } port)
            {
                config = config with
                {
                    PortOverride = port is >= 1 and <= 65535
                        ? (int)port
                        : throw ClusterTranslator.Reject(name, "original_dst_lb_config.upstream_port_override", $"{port} is not a port (1 to 65535)"),
                };
            }
        }

        if (cluster.CleanupInterval is { } cleanup)
        {
            var interval = XdsText.Of(cleanup, $"cluster '{name}'", "cleanup_interval");
            config = config with
            {
                CleanupInterval = interval > TimeSpan.Zero ? interval : throw ClusterTranslator.Reject(name, "cleanup_interval", $"{interval.TotalMilliseconds}ms is not a positive duration"),
            };
        }

        return config;
    }
}
