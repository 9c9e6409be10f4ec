namespace Proxy.Configuration;

/// <summary>Where the management server listens: a TCP address, or the path of a Unix domain socket (istio-agent's <c>./etc/istio/proxy/XDS</c>).</summary>
public sealed record XdsServerAddress
{
    /// <summary>The TCP address; null for a Unix socket.</summary>
    public HostPort? Address { get; init; }

    /// <summary>The Unix socket's path (absolute); null for TCP.</summary>
    public string? UnixPath { get; init; }

    public override string ToString() => UnixPath is { } path ? "unix:" + path : Address!.Value.ToString();
}
