using Envoy.Config.Core.V3;
using Envoy.Extensions.Upstreams.Http.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds.Translation;

// Deprecated Cluster fields (http2_protocol_options, common_http_protocol_options, max_requests_per_connection) are
// still what older management servers send; they are read beside their replacements.
#pragma warning disable CS0612

/// <summary>
/// Turns a CDS <c>Cluster</c> (envoy.config.cluster.v3) into the proxy's <see cref="ClusterConfig"/>. A field the
/// proxy would have to ignore while it changes where or how traffic goes is a rejection naming the cluster and the
/// field; fields that only tune (buffer sizes, DNS refresh, stats names) are ignored, as docs/xds.md lists.
/// </summary>
public static class ClusterTranslator
{
    /// <summary>The upstream filter istiod puts on every outbound cluster (the TCP metadata exchange): telemetry only.</summary>
    private const string IstioMetadataExchange = "istio.metadata_exchange";

    public static TranslatedCluster Translate(XdsCluster cluster) => Translate(cluster, XdsTranslationContext.Empty);

    public static TranslatedCluster Translate(XdsCluster cluster, XdsTranslationContext context)
    {
        var name = cluster.Name;
        if (name.Length == 0)
        {
            throw new XdsRejectedException("a Cluster has no name; every cluster needs one");
        }

        string? edsServiceName = null;
        IReadOnlyList<EndpointConfig> endpoints = ConfigList<EndpointConfig>.Empty;
        IReadOnlyList<Struct?> socketMetadata = [];
        OriginalDestinationConfig? originalDestination = null;
        if (cluster.ClusterDiscoveryTypeCase == XdsCluster.ClusterDiscoveryTypeOneofCase.ClusterType)
        {
            throw Reject(name, "cluster_type", $"custom cluster type '{cluster.ClusterType.Name}' is not supported; use EDS, STATIC, STRICT_DNS, LOGICAL_DNS or ORIGINAL_DST");
        }

        switch (cluster.Type)
        {
            case XdsCluster.Types.DiscoveryType.Eds:
                edsServiceName = EdsServiceName(cluster);
                break;
            case XdsCluster.Types.DiscoveryType.Static:
            case XdsCluster.Types.DiscoveryType.StrictDns:
            case XdsCluster.Types.DiscoveryType.LogicalDns:
                // DNS names are resolved by each connect, so STRICT_DNS and LOGICAL_DNS keep following the name.
                // A STATIC cluster without load_assignment has no endpoint: Istio's BlackHoleCluster, where what goes fails.
                (endpoints, socketMetadata) = cluster.LoadAssignment is { } assignment
                    ? LoadAssignmentTranslator.TranslateWithMetadata(assignment, name)
                    : cluster.Type == XdsCluster.Types.DiscoveryType.Static
                        ? (ConfigList<EndpointConfig>.Empty, [])
                        : throw Reject(name, "load_assignment", $"a {cluster.Type.ToString().ToUpperInvariant()} cluster needs its endpoints in load_assignment");
                break;
            case XdsCluster.Types.DiscoveryType.OriginalDst:
                originalDestination = OriginalDstTranslator.Translate(cluster);
                break;
            default:
                throw Reject(name, "type", $"discovery type {cluster.Type} is not supported; use EDS, STATIC, STRICT_DNS, LOGICAL_DNS or ORIGINAL_DST");
        }

        RejectUnsupported(cluster, name);
        var sockets = TransportSocketTranslator.Translate(cluster, name, context);
        if (sockets is not null && edsServiceName is null)
        {
            endpoints = sockets.Select(endpoints, socketMetadata); // inline endpoints choose their socket now; EDS ones on arrival
        }

        var (protocol, common) = HttpOptions(cluster, name);
        if (protocol == ClusterProtocol.Downstream && sockets?.Tls is not null)
        {
            throw Reject(name, "typed_extension_protocol_options.use_downstream_protocol_config", "following the client's HTTP version is supported for plain-text endpoints only; over TLS use explicit_http_config");
        }

        var defaults = new ClusterConfig { Name = name };
        return new TranslatedCluster(
            new ClusterConfig
            {
                Name = name,
                Endpoints = endpoints,
                Protocol = protocol,
                LoadBalancer = originalDestination is null ? LoadBalancer(cluster, name) : defaults.LoadBalancer,
                ConnectTimeout = cluster.ConnectTimeout is { } timeout ? Positive(timeout, name, "connect_timeout") : TimeSpan.FromSeconds(5),
                Pool = new PoolConfig
                {
                    IdleTimeout = common?.IdleTimeout is { } idle ? Positive(idle, name, "common_http_protocol_options.idle_timeout") : new PoolConfig().IdleTimeout,
                    MaxRequestsPerConnection = (int)Math.Min(int.MaxValue, common?.MaxRequestsPerConnection ?? cluster.MaxRequestsPerConnection ?? 0),
                },
                CircuitBreaker = CircuitBreaker(cluster),
                OutlierDetection = cluster.OutlierDetection is { } outliers ? OutlierDetection(outliers, name) : null,
                IdleTimeout = defaults.IdleTimeout,
                Tls = sockets?.Tls,
                OriginalDestination = originalDestination,
                SourceAddress = UpstreamBindTranslator.Translate(cluster),
            },
            edsServiceName)
        {
            Sockets = sockets,
        };
    }

    /// <summary>The name the cluster's ClusterLoadAssignment is asked for; its endpoints must come over this same stream.</summary>
    private static string EdsServiceName(XdsCluster cluster)
    {
        var name = cluster.Name;
        if (cluster.EdsClusterConfig is not { } eds)
        {
            return name; // as Envoy: no eds_cluster_config means "ask this server, by the cluster's name"
        }

        if (eds.EdsConfig is { } source
            && source.ConfigSourceSpecifierCase is not (ConfigSource.ConfigSourceSpecifierOneofCase.Ads or ConfigSource.ConfigSourceSpecifierOneofCase.Self or ConfigSource.ConfigSourceSpecifierOneofCase.None))
        {
            throw Reject(name, "eds_cluster_config.eds_config", $"endpoints from {source.ConfigSourceSpecifierCase} are not supported; the proxy takes them over its ADS stream, so set eds_config to ads: {{}}");
        }

        return eds.ServiceName.Length > 0 ? eds.ServiceName : name;
    }

    /// <summary>Fields whose meaning the proxy cannot honour yet: each rejects the cluster rather than route around it.</summary>
    private static void RejectUnsupported(XdsCluster cluster, string name)
    {
        if (cluster.HealthChecks.Count > 0)
        {
            throw Reject(name, "health_checks", "active health checks from a management server are not supported yet; remove them (the endpoints' health_status is honoured)");
        }

        if (cluster.LbSubsetConfig is { SubsetSelectors.Count: > 0 })
        {
            throw Reject(name, "lb_subset_config", "subset load balancing is not supported");
        }

        if (cluster.LoadBalancingPolicy is { Policies.Count: > 0 })
        {
            throw Reject(name, "load_balancing_policy", "extension load-balancing policies are not supported; use lb_policy");
        }

        if (cluster.CommonLbConfig is { LocalityConfigSpecifierCase: not XdsCluster.Types.CommonLbConfig.LocalityConfigSpecifierOneofCase.None })
        {
            throw Reject(name, "common_lb_config", "zone-aware and locality-weighted load balancing are not supported; remove zone_aware_lb_config and locality_weighted_lb_config");
        }

        if (cluster.UpstreamConfig is not null)
        {
            throw Reject(name, "upstream_config", $"custom upstream '{cluster.UpstreamConfig.Name}' is not supported");
        }

        for (var i = 0; i < cluster.Filters.Count; i++)
        {
            // Istio's TCP metadata exchange on the upstream connection only labels telemetry: skipped (see docs/xds.md).
            if (cluster.Filters[i].Name != IstioMetadataExchange)
            {
                throw Reject(name, $"filters[{i}] '{cluster.Filters[i].Name}'", "upstream network filters are not supported (only istio.metadata_exchange, which is skipped)");
            }
        }
    }

    private static string LoadBalancer(XdsCluster cluster, string name) => cluster.LbPolicy switch
    {
        XdsCluster.Types.LbPolicy.RoundRobin => "round_robin",
        XdsCluster.Types.LbPolicy.LeastRequest => "least_request",
        XdsCluster.Types.LbPolicy.Random => "random",
        XdsCluster.Types.LbPolicy.RingHash => "ring_hash",
        XdsCluster.Types.LbPolicy.Maglev => "maglev",
        _ => throw Reject(name, "lb_policy", $"{cluster.LbPolicy} is not supported; use ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH or MAGLEV"),
    };

    /// <summary>
    /// HTTP/2 to the endpoints comes from <c>typed_extension_protocol_options</c> (explicit_http_config) or the deprecated
    /// <c>http2_protocol_options</c>; also the common options (idle timeout, requests per connection).
    /// </summary>
    private static (ClusterProtocol Protocol, Envoy.Config.Core.V3.HttpProtocolOptions? Common) HttpOptions(XdsCluster cluster, string name)
    {
        var protocol = cluster.Http2ProtocolOptions is not null ? ClusterProtocol.Http2 : ClusterProtocol.Http1;
        var common = cluster.CommonHttpProtocolOptions;
        foreach (var (key, any) in cluster.TypedExtensionProtocolOptions)
        {
            if (key != XdsTypeUrls.HttpProtocolOptionsKey && any.TypeUrl != XdsTypeUrls.HttpProtocolOptions)
            {
                throw Reject(name, $"typed_extension_protocol_options[{key}]", "these protocol options are not supported; only envoy.extensions.upstreams.http.v3.HttpProtocolOptions is");
            }

            if (any.TypeUrl != XdsTypeUrls.HttpProtocolOptions)
            {
                throw Reject(name, $"typed_extension_protocol_options[{key}]", $"holds a {any.TypeUrl}; it must be an envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
            }

            var options = XdsDecoder.Decode(Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions.Parser, any.Value, $"cluster '{name}': typed_extension_protocol_options[{key}]");
            common = options.CommonHttpProtocolOptions ?? common;
            switch (options.UpstreamProtocolOptionsCase)
            {
                case Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions.UpstreamProtocolOptionsOneofCase.ExplicitHttpConfig:
                    protocol = options.ExplicitHttpConfig.ProtocolConfigCase switch
                    {
                        Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions.Types.ExplicitHttpConfig.ProtocolConfigOneofCase.Http2ProtocolOptions => ClusterProtocol.Http2,
                        Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions.Types.ExplicitHttpConfig.ProtocolConfigOneofCase.HttpProtocolOptions => ClusterProtocol.Http1,
                        _ => throw Reject(name, "typed_extension_protocol_options.explicit_http_config", "HTTP/3 to the endpoints is not supported; use http_protocol_options or http2_protocol_options"),
                    };
                    break;
                case Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions.UpstreamProtocolOptionsOneofCase.UseDownstreamProtocolConfig:
                    // Istio's PassthroughCluster, InboundPassthroughCluster and inbound clusters: each request in the
                    // client's own version (checked against TLS once the transport socket is known).
                    protocol = ClusterProtocol.Downstream;
                    break;
                case Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions.UpstreamProtocolOptionsOneofCase.AutoConfig:
                    throw Reject(name, "typed_extension_protocol_options.auto_config", "ALPN-negotiated upstream protocols are not supported; use explicit_http_config");
            }
        }

        return (protocol, common);
    }

    /// <summary>The DEFAULT priority's thresholds (routes use that priority); Envoy's defaults for what is unset.</summary>
    private static CircuitBreakerConfig? CircuitBreaker(XdsCluster cluster)
    {
        foreach (var thresholds in cluster.CircuitBreakers?.Thresholds ?? [])
        {
            if (thresholds.Priority != RoutingPriority.Default)
            {
                continue;
            }

            var defaults = new CircuitBreakerConfig();
            return new CircuitBreakerConfig
            {
                MaxConnections = Limit(thresholds.MaxConnections, defaults.MaxConnections),
                MaxPendingRequests = Limit(thresholds.MaxPendingRequests, defaults.MaxPendingRequests),
                MaxRequests = Limit(thresholds.MaxRequests, defaults.MaxRequests),
                MaxRetries = Limit(thresholds.MaxRetries, defaults.MaxRetries),
            };
        }

        return null;
    }

    private static int Limit(uint? value, int defaultValue) => value is { } v ? (int)Math.Min(v, int.MaxValue) : defaultValue;

    /// <summary>Envoy's defaults: 5 consecutive 5xx, gateway failures counted but not enforced, 10s, 30s, 10%.</summary>
    private static OutlierDetectionConfig OutlierDetection(Envoy.Config.Cluster.V3.OutlierDetection outliers, string name)
    {
        var defaults = new OutlierDetectionConfig();
        var consecutive5xx = (int)(outliers.Consecutive5Xx ?? 5);
        if (outliers.EnforcingConsecutive5Xx is 0)
        {
            consecutive5xx = 0;
        }

        var gateway = outliers.EnforcingConsecutiveGatewayFailure is > 0 ? (int)(outliers.ConsecutiveGatewayFailure ?? 5) : 0;
        return new OutlierDetectionConfig
        {
            Consecutive5xx = consecutive5xx,
            ConsecutiveGatewayErrors = gateway,
            Interval = outliers.Interval is { } interval ? Positive(interval, name, "outlier_detection.interval") : defaults.Interval,
            BaseEjectionTime = outliers.BaseEjectionTime is { } ejection ? Positive(ejection, name, "outlier_detection.base_ejection_time") : defaults.BaseEjectionTime,
            MaxEjectionPercent = outliers.MaxEjectionPercent is { } percent ? Math.Min(percent, 100) : defaults.MaxEjectionPercent,
        };
    }

    private static TimeSpan Positive(Duration duration, string name, string field)
    {
        var value = XdsText.Of(duration, $"cluster '{name}'", field);
        return value > TimeSpan.Zero ? value : throw Reject(name, field, $"{value.TotalMilliseconds}ms is not a positive duration");
    }

    internal static XdsRejectedException Reject(string cluster, string field, string why) =>
        new($"cluster '{cluster}': {field}: {why}");
}
