namespace Proxy.Xds;

/// <summary>The type URLs of the xDS resources the proxy subscribes to (xds_protocol, "Resource types").</summary>
public static class XdsTypeUrls
{
    public const string Cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

    public const string ClusterLoadAssignment = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

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
        Listener => "lds",
        RouteConfiguration => "rds",
        _ => typeUrl,
    };
}
