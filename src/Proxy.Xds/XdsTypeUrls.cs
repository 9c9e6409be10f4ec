namespace Proxy.Xds;

/// <summary>The type URLs of the xDS resources the proxy subscribes to (xds_protocol, "Resource types").</summary>
public static class XdsTypeUrls
{
    public const string Cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

    public const string ClusterLoadAssignment = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

    /// <summary>An SDS secret (a TLS certificate or a validation context), over the same ADS stream.</summary>
    public const string Secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

    /// <summary>The typed_config of a TLS transport socket to an upstream.</summary>
    public const string UpstreamTlsContext = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

    public const string DownstreamTlsContext = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

    /// <summary>The typed_config of a plain-text transport socket.</summary>
    public const string RawBuffer = "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";

    public const string Listener = "type.googleapis.com/envoy.config.listener.v3.Listener";

    public const string RouteConfiguration = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

    /// <summary>The wrapper a server may put around each resource (envoy.service.discovery.v3.Resource).</summary>
    public const string Resource = "type.googleapis.com/envoy.service.discovery.v3.Resource";

    /// <summary>The upstream HTTP options carried in a cluster's <c>typed_extension_protocol_options</c>.</summary>
    public const string HttpProtocolOptions = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    /// <summary>The key of <see cref="HttpProtocolOptions"/> in <c>typed_extension_protocol_options</c>.</summary>
    public const string HttpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    /// <summary>The short name used in metrics and logs: cds, eds, lds, rds.</summary>
    public static string ShortName(string typeUrl) => typeUrl switch
    {
        Cluster => "cds",
        ClusterLoadAssignment => "eds",
        Secret => "sds",
        Listener => "lds",
        RouteConfiguration => "rds",
        _ => typeUrl,
    };
}
