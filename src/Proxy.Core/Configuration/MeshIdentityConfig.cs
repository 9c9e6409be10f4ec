namespace Proxy.Configuration;

/// <summary>The files of a workload's SPIFFE identity.</summary>
public sealed record MeshIdentityConfig
{
    /// <summary>Workload certificate (with the SPIFFE URI SAN) path.</summary>
    public required string Cert { get; init; }

    /// <summary>Workload private key path.</summary>
    public required string Key { get; init; }

    /// <summary>Mesh CA bundle path, used to verify peers.</summary>
    public required string Ca { get; init; }
}
