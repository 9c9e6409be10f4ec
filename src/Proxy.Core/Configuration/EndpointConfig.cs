namespace Proxy.Configuration;

/// <summary>One upstream address of a cluster.</summary>
public sealed record EndpointConfig
{
    /// <summary>The address to dial.</summary>
    public required HostPort Address { get; init; }

    /// <summary>Relative weight, 1 or more (default 1).</summary>
    public int Weight { get; init; } = 1;
}
