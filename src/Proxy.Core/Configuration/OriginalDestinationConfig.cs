namespace Proxy.Configuration;

/// <summary>How an original-destination cluster (Envoy's <c>ORIGINAL_DST</c>) makes and forgets its endpoints.</summary>
public sealed record OriginalDestinationConfig
{
    /// <summary>Connect to this port instead of the original one (Envoy's <c>upstream_port_override</c>); null keeps it.</summary>
    public int? PortOverride { get; init; }

    /// <summary>An endpoint no connection or request has used for this long is forgotten, with its idle connections (Envoy's <c>cleanup_interval</c>, default 5 s).</summary>
    public TimeSpan CleanupInterval { get; init; } = TimeSpan.FromSeconds(5);
}
