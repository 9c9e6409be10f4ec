using System.Security.Authentication;

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

    /// <summary>
    /// Names the server's certificate must carry one of (checked instead of the host name); empty for the host name
    /// check. Set by the xDS client (<c>match_typed_subject_alt_names</c>), not by the file.
    /// </summary>
    public IReadOnlyList<SubjectAltNameMatchConfig> SubjectAltNames { get; init; } = ConfigList<SubjectAltNameMatchConfig>.Empty;

    /// <summary>
    /// Whether the server's certificate must name the host (SNI or the endpoint's host) when no
    /// <see cref="SubjectAltNames"/> are given. False only from xDS: Envoy checks the chain alone then.
    /// </summary>
    public bool CheckServerName { get; init; } = true;

    /// <summary>The TLS versions allowed; null for TLS 1.2 and 1.3. Set by the xDS client (<c>tls_params</c>).</summary>
    public SslProtocols? Versions { get; init; }

    /// <summary>
    /// The client certificate as a secret held in memory by the certificate store under this name (an SDS secret or
    /// inline PEM from a management server), instead of <see cref="Cert"/> and <see cref="Key"/>.
    /// </summary>
    public string? CertificateSecret { get; init; }

    /// <summary>The CA bundle as a secret held in memory by the certificate store, instead of <see cref="Ca"/>.</summary>
    public string? CaSecret { get; init; }
}
