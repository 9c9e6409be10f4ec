namespace Proxy.Configuration;

/// <summary>TLS termination on a listener.</summary>
public sealed record TlsServerConfig
{
    /// <summary>Certificates; the first whose SNI list matches is used, else the first.</summary>
    public IReadOnlyList<TlsCertificateConfig> Certificates { get; init; } = ConfigList<TlsCertificateConfig>.Empty;

    /// <summary>CA bundle that client certificates must chain to; null for none.</summary>
    public string? ClientCa { get; init; }

    /// <summary>Whether a client certificate is required (needs <see cref="ClientCa"/>).</summary>
    public bool RequireClientCert { get; init; }

    /// <summary>ALPN protocols offered, in preference order (default h2, http/1.1).</summary>
    public IReadOnlyList<string> Alpn { get; init; } = new ConfigList<string>(["h2", "http/1.1"]);
}
