namespace Proxy.Configuration;

/// <summary>One server certificate and key, with the names it serves.</summary>
public sealed record TlsCertificateConfig
{
    /// <summary>PEM certificate chain path (absolute after loading).</summary>
    public required string Cert { get; init; }

    /// <summary>PEM private key path (absolute after loading).</summary>
    public required string Key { get; init; }

    /// <summary>SNI names served by this certificate (<c>*.example.com</c> allowed); empty for the default.</summary>
    public IReadOnlyList<string> Sni { get; init; } = ConfigList<string>.Empty;
}
