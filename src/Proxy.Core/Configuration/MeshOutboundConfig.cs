namespace Proxy.Configuration;

/// <summary>The outbound listener of a sidecar: destinations the app dials, mapped to clusters.</summary>
public sealed record MeshOutboundConfig
{
    /// <summary>Port the intercepted outbound traffic is redirected to (default 15001).</summary>
    public int Port { get; init; } = 15001;

    /// <summary>Known destinations; others pass through to their original destination.</summary>
    public IReadOnlyList<MeshServiceConfig> Services { get; init; } = ConfigList<MeshServiceConfig>.Empty;
}
