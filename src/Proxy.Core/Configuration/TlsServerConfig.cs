using System.Security.Authentication;

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

    /// <summary>
    /// The certificate as a secret held in memory by the certificate store under this name (an SDS secret or inline PEM
    /// from a management server), used when <see cref="Certificates"/> is empty. Set by the xDS client, not the file.
    /// </summary>
    public string? CertificateSecret { get; init; }

    /// <summary>The client CA bundle as a secret held in memory by the certificate store, instead of <see cref="ClientCa"/>.</summary>
    public string? ClientCaSecret { get; init; }

    /// <summary>Names a client certificate must carry one of (Envoy's subject alt name matchers); empty for any. Set by the xDS client.</summary>
    public IReadOnlyList<SubjectAltNameMatchConfig> ClientSubjectAltNames { get; init; } = ConfigList<SubjectAltNameMatchConfig>.Empty;

    /// <summary>The TLS versions allowed; null for TLS 1.2 and 1.3. Set by the xDS client (<c>tls_params</c>).</summary>
    public SslProtocols? Versions { get; init; }

    /// <summary>
    /// The TLS 1.2 cipher suites accepted, in preference order; null for the system TLS library's. TLS 1.3 keeps all of
    /// its suites (as in Envoy). Set by the xDS client (<c>tls_params.cipher_suites</c>).
    /// </summary>
    public IReadOnlyList<System.Net.Security.TlsCipherSuite>? CipherSuites { get; init; }
}
