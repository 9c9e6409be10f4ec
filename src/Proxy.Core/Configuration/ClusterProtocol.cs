namespace Proxy.Configuration;

/// <summary>The HTTP version spoken to a cluster's endpoints.</summary>
public enum ClusterProtocol
{
    /// <summary>HTTP/1.1.</summary>
    Http1,

    /// <summary>HTTP/2 (h2 over TLS, h2c prior knowledge without).</summary>
    Http2,
}
