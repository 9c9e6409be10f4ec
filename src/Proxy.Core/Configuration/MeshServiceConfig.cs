namespace Proxy.Configuration;

/// <summary>One destination the app dials, by its virtual address, and where it really goes.</summary>
public sealed record MeshServiceConfig
{
    /// <summary>The virtual address the app connects to.</summary>
    public required HostPort Address { get; init; }

    /// <summary>The cluster that serves it.</summary>
    public required string Cluster { get; init; }

    /// <summary>The SPIFFE ID the upstream must present; null for plain text.</summary>
    public string? Identity { get; init; }
}
