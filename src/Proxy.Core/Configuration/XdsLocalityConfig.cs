namespace Proxy.Configuration;

/// <summary>The node's locality (envoy.config.core.v3.Locality): region, zone and sub-zone, each empty when unknown.</summary>
public sealed record XdsLocalityConfig
{
    public string Region { get; init; } = "";

    public string Zone { get; init; } = "";

    public string SubZone { get; init; } = "";
}
