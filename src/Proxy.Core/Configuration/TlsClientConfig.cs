namespace Proxy.Configuration;

/// <summary>TLS from the proxy to a cluster's endpoints.</summary>
public sealed record TlsClientConfig
{
    /// <summary>SNI and verification name; null means the endpoint's host.</summary>
    public string? Sni { get; init; }

    /// <summary>CA bundle path to verify the server; null means the system store.</summary>
    public string? Ca { get; init; }

    /// <summary>Client certificate path, for mutual TLS; set together with <see cref="Key"/>.</summary>
    public string? Cert { get; init; }

    /// <summary>Client private key path.</summary>
    public string? Key { get; init; }

    /// <summary>Skips server certificate verification (testing only).</summary>
    public bool InsecureSkipVerify { get; init; }

    /// <summary>ALPN protocols offered; empty means derived from the cluster protocol.</summary>
    public IReadOnlyList<string> Alpn { get; init; } = ConfigList<string>.Empty;
}
