using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tls;

/// <summary>
/// How a listener terminates TLS: the certificates to choose from by SNI, optional client
/// certificate verification against a CA bundle, ALPN, and protocol versions. The options are
/// chosen per handshake (after the ClientHello is read), so a rotated certificate is used by the
/// next handshake; options are cached per certificate version so the runtime's native TLS context
/// (and with it the session-ticket keys for resumption) is reused between handshakes.
/// </summary>
public sealed class TlsServerPolicy
{
    private readonly Entry[] _entries;
    private readonly int _defaultEntry;
    private readonly TrustBundle? _clientCa;
    private readonly bool _requireClientCert;
    private readonly List<SslApplicationProtocol>? _alpn;
    private readonly IReadOnlyList<string> _alpnNames;
    private readonly SslProtocols _protocols;
    private readonly RemoteCertificateValidationCallback _validate;
    private readonly IReadOnlyList<TlsCipherSuite>? _tls12CipherSuites;
    private readonly CipherSuitesPolicy? _cipherSuites;

    /// <param name="certificates">Certificates with the SNI names each serves; one with no names is the default (else the first).</param>
    public TlsServerPolicy(
        IReadOnlyList<(CertificateSource Source, IReadOnlyList<string> ServerNames)> certificates,
        TrustBundle? clientCa,
        bool requireClientCert,
        IReadOnlyList<string> alpn,
        SslProtocols protocols = TlsDefaults.Edge)
    {
        if (certificates.Count == 0)
        {
            throw new ArgumentException("a TLS listener needs at least one certificate", nameof(certificates));
        }

        _entries = new Entry[certificates.Count];
        _defaultEntry = -1;
        for (var i = 0; i < _entries.Length; i++)
        {
            _entries[i] = new Entry(certificates[i].Source, [.. certificates[i].ServerNames]);
            if (_defaultEntry < 0 && certificates[i].ServerNames.Count == 0)
            {
                _defaultEntry = i;
            }
        }

        _defaultEntry = Math.Max(_defaultEntry, 0);
        _clientCa = clientCa;
        _requireClientCert = requireClientCert;
        _alpn = alpn.Count > 0 ? TlsDefaults.Alpn(alpn) : null; // none: no ALPN extension in the answer
        _alpnNames = alpn;
        _protocols = protocols;
        _validate = ValidateClientCertificate;
    }

    /// <summary>
    /// The TLS 1.2 cipher suites a client may agree on (a management server's <c>cipher_suites</c>), null for the TLS
    /// library's; TLS 1.3's suites are always allowed.
    /// </summary>
    public IReadOnlyList<TlsCipherSuite>? Tls12CipherSuites
    {
        get => _tls12CipherSuites;
        init
        {
            _tls12CipherSuites = value;
            if (value is not null && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
            {
                _cipherSuites = new CipherSuitesPolicy([TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, .. value]);
            }
        }
    }

    /// <summary>Names a client certificate must carry one of (a management server's subject alt name matchers); empty for any.</summary>
    public IReadOnlyList<Configuration.SubjectAltNameMatchConfig> ClientSubjectAltNames { get; init; } = [];

    /// <summary>Whether a client certificate is asked for (a client CA is configured).</summary>
    public bool RequestsClientCertificate => _clientCa is not null;

    /// <summary>The callback SslStream calls with the ClientHello; the state is this policy.</summary>
    public static readonly ServerOptionsSelectionCallback SelectOptions = static (_, hello, state, _) =>
        ValueTask.FromResult(((TlsServerPolicy)state!).OptionsFor(hello.ServerName));

    /// <summary>As <see cref="SelectOptions"/>, for a handshake that is to answer without ALPN (see <see cref="AcceptsNoneOf"/>).</summary>
    public static readonly ServerOptionsSelectionCallback SelectOptionsWithoutAlpn = static (_, hello, state, _) =>
        ValueTask.FromResult(((TlsServerPolicy)state!).OptionsFor(hello.ServerName, alpn: false));

    /// <summary>
    /// Whether the client offered ALPN protocols (<paramref name="offered"/>, read from its ClientHello) of which this
    /// policy accepts none. The TLS library then refuses the handshake (no_application_protocol, as RFC 7301 section
    /// 3.2 has it); Envoy (BoringSSL's callback answering SSL_TLSEXT_ERR_NOACK) goes on without ALPN, and so must a
    /// listener a management server describes in Envoy's terms: an Istio client sidecar offers <c>istio-http/1.1</c>
    /// to a chain whose TLS lists <c>h2</c> and <c>http/1.1</c>.
    /// </summary>
    public bool AcceptsNoneOf(IReadOnlyList<string>? offered)
    {
        if (_alpn is null || offered is null || offered.Count == 0)
        {
            return false;
        }

        foreach (var name in offered)
        {
            if (_alpnNames.Contains(name, StringComparer.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The options for a handshake that asked for <paramref name="serverName"/> (null or empty: no SNI); without ALPN when <paramref name="alpn"/> is false.</summary>
    public SslServerAuthenticationOptions OptionsFor(string? serverName, bool alpn = true)
    {
        var entry = _entries[IndexFor(serverName)];
        var certificate = entry.Source.Current;
        var chainPolicy = _clientCa?.ChainPolicy(peerIsClient: true);
        var cached = Volatile.Read(ref (alpn ? ref entry.Options : ref entry.OptionsWithoutAlpn));
        if (cached is not null && cached.Version == certificate.Version && ReferenceEquals(cached.ChainPolicy, chainPolicy))
        {
            return cached.Options;
        }

        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificate.Context,
            ClientCertificateRequired = _clientCa is not null,
            RemoteCertificateValidationCallback = _validate,
            ApplicationProtocols = alpn ? _alpn : null,
            EnabledSslProtocols = _protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = chainPolicy,
        };
        if (_cipherSuites is not null && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            options.CipherSuitesPolicy = _cipherSuites;
        }

        Volatile.Write(ref (alpn ? ref entry.Options : ref entry.OptionsWithoutAlpn), new CachedOptions(certificate.Version, chainPolicy, options));
        return options;
    }

    /// <summary>
    /// The certificate for a server name: an exact name first, then a wildcard (<c>*.example.com</c>
    /// covers one label, RFC 6125 section 6.4.3), then the default.
    /// </summary>
    public int IndexFor(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return _defaultEntry;
        }

        for (var i = 0; i < _entries.Length; i++)
        {
            foreach (var name in _entries[i].ServerNames)
            {
                if (string.Equals(name, serverName, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }
        }

        var dot = serverName.IndexOf('.');
        if (dot > 0)
        {
            var parent = serverName.AsSpan(dot);
            for (var i = 0; i < _entries.Length; i++)
            {
                foreach (var name in _entries[i].ServerNames)
                {
                    if (name.StartsWith("*.", StringComparison.Ordinal) && parent.Equals(name.AsSpan(1), StringComparison.OrdinalIgnoreCase))
                    {
                        return i;
                    }
                }
            }
        }

        return _defaultEntry;
    }

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return !_requireClientCert;
        }

        if (_clientCa is null)
        {
            return true; // not asked for; ignored
        }

        // SslStream built the chain with this CA bundle's policy (CertificateChainPolicy above): its verdict is
        // the check, with no second chain build here.
        if ((errors & (SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        return ClientSubjectAltNames.Count == 0
            || (certificate is X509Certificate2 full ? SubjectAltNames.Match(full, ClientSubjectAltNames) : SubjectAltNames.Match(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), ClientSubjectAltNames));
    }

    private sealed class Entry(CertificateSource source, string[] serverNames)
    {
        public readonly CertificateSource Source = source;
        public readonly string[] ServerNames = serverNames;
        public CachedOptions? Options;
        public CachedOptions? OptionsWithoutAlpn;
    }

    private sealed record CachedOptions(int Version, X509ChainPolicy? ChainPolicy, SslServerAuthenticationOptions Options);
}
