using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Proxy.Configuration;

namespace Proxy.Tls;

/// <summary>
/// How the proxy originates TLS to an upstream: SNI, server verification (a CA bundle, or the system
/// store), an optional client certificate for mutual TLS, an optional SPIFFE ID the server must
/// present (mesh), ALPN. SslStream resumes TLS sessions by itself when the target host and options
/// repeat, which they do here.
/// </summary>
public sealed class TlsClientPolicy
{
    private readonly TrustBundle? _ca;
    private readonly CertificateSource? _clientCertificate;
    private readonly bool _insecureSkipVerify;
    private readonly List<SslApplicationProtocol> _alpn;
    private readonly SslProtocols _protocols;
    private readonly RemoteCertificateValidationCallback _validate;
    private readonly IReadOnlyList<SubjectAltNameMatchConfig> _subjectAltNames;
    private readonly bool _checkServerName;

    public TlsClientPolicy(
        string? serverName,
        TrustBundle? ca,
        CertificateSource? clientCertificate,
        IReadOnlyList<string> alpn,
        SpiffeId? expectedIdentity = null,
        bool insecureSkipVerify = false,
        SslProtocols protocols = TlsDefaults.Edge,
        IReadOnlyList<SubjectAltNameMatchConfig>? subjectAltNames = null,
        bool checkServerName = true)
    {
        _subjectAltNames = subjectAltNames ?? [];
        _checkServerName = checkServerName && _subjectAltNames.Count == 0;
        ServerName = serverName;
        _ca = ca;
        _clientCertificate = clientCertificate;
        _insecureSkipVerify = insecureSkipVerify;
        ExpectedIdentity = expectedIdentity;
        _alpn = TlsDefaults.Alpn(alpn);
        _protocols = protocols;
        _validate = ValidateServerCertificate;
    }

    /// <summary>SNI and verification name; null means the endpoint's host.</summary>
    public string? ServerName { get; }

    /// <summary>The SPIFFE ID the server must present (mesh), or null to check the host name instead.</summary>
    public SpiffeId? ExpectedIdentity { get; }

    /// <summary>The options for one connect to <paramref name="host"/> (used when no SNI is configured).</summary>
    public SslClientAuthenticationOptions OptionsFor(string host) => new()
    {
        TargetHost = ServerName ?? host,
        ApplicationProtocols = _alpn.Count > 0 ? _alpn : null,
        EnabledSslProtocols = _protocols,
        ClientCertificateContext = _clientCertificate?.Current.Context,
        RemoteCertificateValidationCallback = _validate,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = _ca is null || _insecureSkipVerify ? null : _ca.ChainPolicy(peerIsClient: false),
    };

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_insecureSkipVerify)
        {
            return true;
        }

        if (certificate is not X509Certificate2 full)
        {
            return Refuse(sender, SslPolicyErrors.RemoteCertificateNotAvailable, null, chain);
        }

        // With a CA bundle, SslStream built the chain against it (CertificateChainPolicy), else against the system
        // store: either way its verdict is the chain check, with no second build here.
        if (ExpectedIdentity is not null)
        {
            // Mesh: the name that matters is the SPIFFE ID, not a DNS name.
            if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            {
                return Refuse(sender, SslPolicyErrors.RemoteCertificateChainErrors, full, chain);
            }

            var presented = SpiffeId.FromCertificate(full);
            if (!ExpectedIdentity.Equals(presented))
            {
                if (sender is VerifyingSslStream stream)
                {
                    stream.VerificationFailure = TlsFailureReason.WrongIdentity(ExpectedIdentity, presented);
                }

                return false;
            }

            return true;
        }

        // Names the cluster accepts (Envoy's SAN matchers) stand in for the host name; without either only the chain counts.
        if (!_checkServerName)
        {
            errors &= ~SslPolicyErrors.RemoteCertificateNameMismatch;
        }

        if (errors != SslPolicyErrors.None)
        {
            return Refuse(sender, errors, full, chain);
        }

        if (_subjectAltNames.Count > 0 && !SubjectAltNames.Match(full, _subjectAltNames))
        {
            if (sender is VerifyingSslStream stream)
            {
                stream.VerificationFailure = TlsFailureReason.NoAcceptedName(full, _subjectAltNames);
            }

            return false;
        }

        return true;
    }

    /// <summary>Records why the certificate is refused on the connection's stream (failure path only); returns false.</summary>
    private bool Refuse(object sender, SslPolicyErrors errors, X509Certificate2? certificate, X509Chain? chain)
    {
        if (sender is VerifyingSslStream stream)
        {
            stream.VerificationFailure = TlsFailureReason.Certificate(errors, certificate, chain, stream.TargetHostName, customCa: _ca is not null);
        }

        return false;
    }
}
