namespace Proxy.Configuration;

/// <summary>The HTTP version spoken to a cluster's endpoints.</summary>
public enum ClusterProtocol
{
    /// <summary>HTTP/1.1.</summary>
    Http1,

    /// <summary>HTTP/2 (h2 over TLS, h2c prior knowledge without).</summary>
    Http2,

    /// <summary>
    /// The client's own version: HTTP/1.1 for an HTTP/1.1 client, HTTP/2 for an HTTP/2 one (Envoy's
    /// <c>use_downstream_protocol_config</c>, which Istio's passthrough and inbound clusters carry). Plain text only.
    /// </summary>
    Downstream,
}
