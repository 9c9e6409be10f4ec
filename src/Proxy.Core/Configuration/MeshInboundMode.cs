namespace Proxy.Configuration;

/// <summary>Whether the inbound side of a sidecar requires mutual TLS.</summary>
public enum MeshInboundMode
{
    /// <summary>Only mTLS connections from mesh identities are accepted.</summary>
    Strict,

    /// <summary>Plain-text connections are accepted too (for migration).</summary>
    Permissive,
}
