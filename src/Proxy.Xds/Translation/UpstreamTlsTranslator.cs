using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Envoy.Config.Core.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Envoy.Type.Matcher.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// Turns a cluster's transport socket (<c>envoy.transport_sockets.tls</c> with an <c>UpstreamTlsContext</c>, or
/// <c>raw_buffer</c>) into the proxy's <see cref="TlsClientConfig"/>, with Envoy's meaning: no validation context
/// means the server is not verified; a trusted CA without names checks the chain only; SAN matchers replace the host
/// name check. Certificates come from files, inline PEM, SDS over the ADS stream, or (for istio-agent's
/// <c>default</c> and <c>ROOTCA</c>) the proxy's own mesh identity. What the proxy cannot honour is a rejection.
/// </summary>
public static class UpstreamTlsTranslator
{
    private const string TlsSocket = "envoy.transport_sockets.tls";
    private const string RawSocket = "envoy.transport_sockets.raw_buffer";

    /// <summary>The TLS to originate (null for plain text), the SDS secrets it waits for, and the inline PEM it carries.</summary>
    public static (TlsClientConfig? Tls, List<SecretReference> Secrets, List<InlineSecret> Inline) Translate(TransportSocket socket, string cluster, string field, XdsTranslationContext context)
    {
        var typeUrl = socket.TypedConfig?.TypeUrl;
        if (typeUrl == XdsTypeUrls.RawBuffer || (typeUrl is null && socket.Name == RawSocket))
        {
            return (null, [], []);
        }

        if (typeUrl != XdsTypeUrls.UpstreamTlsContext && !(typeUrl is null && socket.Name == TlsSocket))
        {
            throw ClusterTranslator.Reject(cluster, field, $"transport socket '{socket.Name}' ({typeUrl ?? "no typed_config"}) is not supported; use envoy.transport_sockets.tls with an UpstreamTlsContext, or raw_buffer");
        }

        var tlsContext = socket.TypedConfig is { } any ? XdsDecoder.Decode(UpstreamTlsContext.Parser, any.Value, $"cluster '{cluster}': {field}.typed_config") : new UpstreamTlsContext();
        return new Builder($"cluster '{cluster}'", field + ".typed_config", context).Build(tlsContext);
    }

    /// <param name="server">A listener's TLS (a DownstreamTlsContext), which takes <c>cipher_suites</c> (see <see cref="CipherSuiteNames"/>).</param>
    internal sealed class Builder(string owner, string field, XdsTranslationContext context, bool server = false)
    {
        private readonly List<SecretReference> _secrets = [];
        private readonly List<InlineSecret> _inline = [];

        public (TlsClientConfig, List<SecretReference>, List<InlineSecret>) Build(UpstreamTlsContext tls)
        {
            var (config, secrets, inline) = Build(tls.CommonTlsContext ?? new CommonTlsContext());
            return (config with { Sni = tls.Sni.Length > 0 ? tls.Sni : null }, secrets, inline);
        }

        /// <summary>
        /// A <c>common_tls_context</c> in the terms of the proxy's client TLS (certificate, trusted CA, names, versions,
        /// ALPN); the listeners' downstream TLS takes the same parts from it.
        /// </summary>
        private const string IstioPeerExchange = "istio-peer-exchange";

        public (TlsClientConfig, List<SecretReference>, List<InlineSecret>) Build(CommonTlsContext common)
        {
            RejectUnsupported(common);
            var config = new TlsClientConfig
            {
                // Istio's TCP metadata exchange is negotiated by this token and then runs inside the connection (a frame
                // each way before any application byte). The proxy does not run it on a server's resources, so it neither
                // offers nor accepts the token: a peer never waits for, or sends, a frame the other side does not read.
                Alpn = new ConfigList<string>([.. common.AlpnProtocols.Where(static p => p != IstioPeerExchange)]),
                Versions = Versions(common.TlsParams),
            };
            config = ClientCertificate(common, config);
            config = Validation(common, config);
            return (config, _secrets, _inline);
        }

        private void RejectUnsupported(CommonTlsContext common)
        {
            if (common.TlsParams is { } p && ((p.CipherSuites.Count > 0 && !server) || p.EcdhCurves.Count > 0 || p.SignatureAlgorithms.Count > 0))
            {
                throw Reject(owner, field + ".common_tls_context.tls_params", server
                    ? "ecdh_curves and signature_algorithms are not supported (the system TLS library's defaults apply); remove them"
                    : "cipher_suites, ecdh_curves and signature_algorithms are not supported on a cluster (the system TLS library's defaults apply); remove them");
            }

#pragma warning disable CS0612 // the deprecated provider fields still mean something the proxy cannot do
            if (common.TlsCertificateProviderInstance is not null || common.TlsCertificateCertificateProvider is not null || common.TlsCertificateCertificateProviderInstance is not null)
#pragma warning restore CS0612
            {
                throw Reject(owner, field + ".common_tls_context", "certificate provider instances are not supported; give tls_certificates or tls_certificate_sds_secret_configs");
            }

            if (common.CustomHandshaker is not null)
            {
                throw Reject(owner, field + ".common_tls_context.custom_handshaker", "custom handshakers are not supported");
            }
        }

        /// <summary>TLS 1.2 and 1.3 within [min, max]; TLS_AUTO leaves the proxy's default (1.2 and 1.3).</summary>
        private SslProtocols? Versions(TlsParameters? parameters)
        {
            if (parameters is null)
            {
                return null;
            }

            var min = parameters.TlsMinimumProtocolVersion;
            var max = parameters.TlsMaximumProtocolVersion;
            foreach (var version in (ReadOnlySpan<TlsParameters.Types.TlsProtocol>)[min, max])
            {
                if (version is TlsParameters.Types.TlsProtocol.Tlsv10 or TlsParameters.Types.TlsProtocol.Tlsv11)
                {
                    throw Reject(owner, field + ".common_tls_context.tls_params", $"{version} is not supported; the proxy speaks TLS 1.2 and 1.3 (use TLSv1_2 or TLSv1_3)");
                }
            }

            var low = min == TlsParameters.Types.TlsProtocol.TlsAuto ? TlsParameters.Types.TlsProtocol.Tlsv12 : min;
            var high = max == TlsParameters.Types.TlsProtocol.TlsAuto ? TlsParameters.Types.TlsProtocol.Tlsv13 : max;
            if (low > high)
            {
                throw Reject(owner, field + ".common_tls_context.tls_params", $"tls_minimum_protocol_version {min} is above tls_maximum_protocol_version {max}");
            }

            var versions = SslProtocols.None;
            if (low <= TlsParameters.Types.TlsProtocol.Tlsv12 && high >= TlsParameters.Types.TlsProtocol.Tlsv12)
            {
                versions |= SslProtocols.Tls12;
            }

            if (high >= TlsParameters.Types.TlsProtocol.Tlsv13)
            {
                versions |= SslProtocols.Tls13;
            }

            return versions;
        }

        private TlsClientConfig ClientCertificate(CommonTlsContext common, TlsClientConfig config)
        {
            var where = field + ".common_tls_context";
            if (common.TlsCertificates.Count + common.TlsCertificateSdsSecretConfigs.Count > 1)
            {
                throw Reject(owner, where, "more than one client certificate is given; the proxy sends one (give one tls_certificates entry or one tls_certificate_sds_secret_configs entry)");
            }

            if (common.TlsCertificates.Count == 1)
            {
                var certificate = common.TlsCertificates[0];
                where += ".tls_certificates[0]";
                if (certificate.Pkcs12 is not null || certificate.PrivateKeyProvider is not null || certificate.WatchedDirectory is not null || certificate.Password is not null)
                {
                    throw Reject(owner, where, "pkcs12, private_key_provider, watched_directory and password are not supported; give certificate_chain and private_key as PEM");
                }

                if (certificate.CertificateChain is null || certificate.PrivateKey is null)
                {
                    throw Reject(owner, where, "a client certificate needs both certificate_chain and private_key");
                }

                var chain = Source(certificate.CertificateChain, where + ".certificate_chain");
                var key = Source(certificate.PrivateKey, where + ".private_key");
                if (chain.File is not null && key.File is not null)
                {
                    return config with { Cert = chain.File, Key = key.File };
                }

                // Inline (either part): both are held in memory, the file one read now.
                var chainPem = chain.Inline ?? ReadFile(chain.File!, where + ".certificate_chain");
                var keyPem = key.Inline ?? ReadFile(key.File!, where + ".private_key");
                var name = InlineName(chainPem, keyPem);
                _inline.Add(new InlineSecret(name, chainPem, keyPem, null));
                return config with { CertificateSecret = name };
            }

            if (common.TlsCertificateSdsSecretConfigs.Count == 1)
            {
                var sds = common.TlsCertificateSdsSecretConfigs[0];
                where += ".tls_certificate_sds_secret_configs[0]";
                if (Reference(sds, SecretKind.Certificate, where, "default", "the workload certificate") is { } reference)
                {
                    _secrets.Add(reference);
                    return config with { CertificateSecret = reference.StoreName };
                }

                var identity = MeshIdentity(sds, where, "default", "the workload certificate");
                return config with { Cert = identity.Cert, Key = identity.Key };
            }

            return config;
        }

        private TlsClientConfig Validation(CommonTlsContext common, TlsClientConfig config)
        {
            var where = field + ".common_tls_context";
            switch (common.ValidationContextTypeCase)
            {
                case CommonTlsContext.ValidationContextTypeOneofCase.None:
                    // Envoy verifies nothing without a validation context; so does the proxy (documented in xds.md).
                    return config with { InsecureSkipVerify = true };
                case CommonTlsContext.ValidationContextTypeOneofCase.ValidationContext:
                    return ValidationContext(common.ValidationContext, config, where + ".validation_context", caFromSds: false);
                case CommonTlsContext.ValidationContextTypeOneofCase.ValidationContextSdsSecretConfig:
                    return TrustFromSds(common.ValidationContextSdsSecretConfig, config with { CheckServerName = false }, where + ".validation_context_sds_secret_config");
                case CommonTlsContext.ValidationContextTypeOneofCase.CombinedValidationContext:
                    var combined = common.CombinedValidationContext;
                    where += ".combined_validation_context";
                    if (combined.ValidationContextSdsSecretConfig is null)
                    {
                        throw Reject(owner, where, "validation_context_sds_secret_config is required");
                    }

                    config = ValidationContext(combined.DefaultValidationContext ?? new CertificateValidationContext(), config, where + ".default_validation_context", caFromSds: true);
                    return TrustFromSds(combined.ValidationContextSdsSecretConfig, config, where + ".validation_context_sds_secret_config");
                default:
                    throw Reject(owner, where, "certificate provider instances are not supported for validation; give validation_context, validation_context_sds_secret_config or combined_validation_context");
            }
        }

        private TlsClientConfig TrustFromSds(SdsSecretConfig sds, TlsClientConfig config, string where)
        {
            if (Reference(sds, SecretKind.ValidationContext, where, "ROOTCA", "the trust bundle") is { } reference)
            {
                _secrets.Add(reference);
                return config with { CaSecret = reference.StoreName };
            }

            return config with { Ca = MeshIdentity(sds, where, "ROOTCA", "the trust bundle").Ca };
        }

        /// <param name="caFromSds">The trusted CA comes from an SDS secret (combined_validation_context), not from here.</param>
        private TlsClientConfig ValidationContext(CertificateValidationContext validation, TlsClientConfig config, string where, bool caFromSds)
        {
            if (validation.CaCertificateProviderInstance is not null || validation.WatchedDirectory is not null || validation.CustomValidatorConfig is not null)
            {
                throw Reject(owner, where, "ca_certificate_provider_instance, watched_directory and custom_validator_config are not supported; give trusted_ca");
            }

            if (validation.VerifyCertificateSpki.Count > 0 || validation.VerifyCertificateHash.Count > 0)
            {
                throw Reject(owner, where, "certificate pinning (verify_certificate_spki, verify_certificate_hash) is not supported; verify by trusted_ca and subject alt names");
            }

            if (validation.Crl is not null || validation.RequireSignedCertificateTimestamp is true || validation.AllowExpiredCertificate
                || validation.TrustChainVerification != CertificateValidationContext.Types.TrustChainVerification.VerifyTrustChain)
            {
                throw Reject(owner, where, "crl, require_signed_certificate_timestamp, allow_expired_certificate and ACCEPT_UNTRUSTED are not supported");
            }

            var names = new List<SubjectAltNameMatchConfig>();
            for (var i = 0; i < validation.MatchTypedSubjectAltNames.Count; i++)
            {
                var typed = validation.MatchTypedSubjectAltNames[i];
                var type = typed.SanType switch
                {
                    SubjectAltNameMatcher.Types.SanType.Dns => SubjectAltNameType.Dns,
                    SubjectAltNameMatcher.Types.SanType.Uri => SubjectAltNameType.Uri,
                    SubjectAltNameMatcher.Types.SanType.Email => SubjectAltNameType.Email,
                    SubjectAltNameMatcher.Types.SanType.IpAddress => SubjectAltNameType.IpAddress,
                    _ => throw Reject(owner, $"{where}.match_typed_subject_alt_names[{i}].san_type", $"{typed.SanType} is not supported; use DNS, URI, EMAIL or IP_ADDRESS"),
                };
                names.Add(Matcher(typed.Matcher, type, $"{where}.match_typed_subject_alt_names[{i}].matcher"));
            }

#pragma warning disable CS0612 // match_subject_alt_names is deprecated, and still what older control planes (and Istio) send
            for (var i = 0; i < validation.MatchSubjectAltNames.Count; i++)
            {
                names.Add(Matcher(validation.MatchSubjectAltNames[i], SubjectAltNameType.Any, $"{where}.match_subject_alt_names[{i}]"));
            }
#pragma warning restore CS0612

            config = config with { SubjectAltNames = ConfigList<SubjectAltNameMatchConfig>.From(names), CheckServerName = false };
            if (caFromSds)
            {
                return config;
            }

            if (validation.TrustedCa is { } ca)
            {
                var source = Source(ca, where + ".trusted_ca");
                if (source.File is not null)
                {
                    return config with { Ca = source.File };
                }

                var name = InlineName(source.Inline!, "");
                _inline.Add(new InlineSecret(name, null, null, source.Inline));
                return config with { CaSecret = name };
            }

            if (validation.SystemRootCerts is not null)
            {
                return config; // the system store: Ca stays null
            }

            if (names.Count > 0)
            {
                throw Reject(owner, where, "subject alt names are checked only on a verified chain; give trusted_ca (or system_root_certs) too");
            }

            return config with { InsecureSkipVerify = true }; // an empty validation context verifies nothing, as in Envoy
        }

        private SubjectAltNameMatchConfig Matcher(StringMatcher matcher, SubjectAltNameType type, string where)
        {
            var (kind, value) = matcher.MatchPatternCase switch
            {
                StringMatcher.MatchPatternOneofCase.Exact => (SubjectAltNameMatchKind.Exact, matcher.Exact),
                StringMatcher.MatchPatternOneofCase.Prefix => (SubjectAltNameMatchKind.Prefix, matcher.Prefix),
                StringMatcher.MatchPatternOneofCase.Suffix => (SubjectAltNameMatchKind.Suffix, matcher.Suffix),
                StringMatcher.MatchPatternOneofCase.Contains => (SubjectAltNameMatchKind.Contains, matcher.Contains),
                _ => throw Reject(owner, where, $"{matcher.MatchPatternCase} matching of subject alt names is not supported; use exact, prefix, suffix or contains"),
            };
            return new SubjectAltNameMatchConfig { Type = type, Kind = kind, Value = value, IgnoreCase = matcher.IgnoreCase };
        }

        /// <summary>
        /// Where an SDS secret comes from: the ADS stream (<c>ads: {}</c> or <c>self: {}</c>), or an SDS server of
        /// <c>xds.secret_servers</c> (<c>api_config_source</c>, <c>GRPC</c>, by its <c>envoy_grpc.cluster_name</c>, as
        /// istiod names istio-agent's <c>sds-grpc</c>). Null when neither: istio-agent's <paramref name="istioName"/>
        /// then comes from <c>mesh.identity</c> (<see cref="MeshIdentity"/>).
        /// </summary>
        private SecretReference? Reference(SdsSecretConfig sds, SecretKind kind, string where, string istioName, string what)
        {
            if (sds.Name.Length == 0)
            {
                throw Reject(owner, where + ".name", "an SDS secret needs a name");
            }

            if (sds.SdsConfig is not { } source)
            {
                throw Reject(owner, where + ".sds_config", $"secret '{sds.Name}' has no sds_config (a static secret from a bootstrap), which the proxy does not have; send it over ADS (sds_config: {{ ads: {{}} }}) or from an SDS server of xds.secret_servers");
            }

            if (source.ConfigSourceSpecifierCase is ConfigSource.ConfigSourceSpecifierOneofCase.Ads or ConfigSource.ConfigSourceSpecifierOneofCase.Self)
            {
                return new SecretReference(sds.Name, kind);
            }

            if (source.ApiConfigSource is not { GrpcServices.Count: > 0 } api || api.GrpcServices[0].EnvoyGrpc is not { } grpc)
            {
                return null;
            }

            var server = grpc.ClusterName;
            where += ".sds_config.api_config_source";
            if (!context.SecretServers.Contains(server))
            {
                if (sds.Name == istioName && context.MeshIdentity is not null)
                {
                    return null; // istio-agent's secret, stood in for by the proxy's own identity files
                }

                var (which, instead) = sds.Name == istioName
                    ? ($"secret '{sds.Name}' ({what})", ", or configure mesh.identity (cert, key, ca) to take it from files")
                    : ($"secret '{sds.Name}'", ", or send the secret over ADS (sds_config: { ads: {} })");
                var example = server == "sds-grpc" ? "sds-grpc: unix:./var/run/secrets/workload-spiffe-uds/socket, istio-agent's socket" : $"{server}: unix:/path/to/socket or host:port";
                throw Reject(owner, where + ".grpc_services[0].envoy_grpc.cluster_name",
                    $"{which} comes from the SDS server '{server}', which the proxy does not know; add it to xds.secret_servers ({example}){instead}");
            }

            if (api.ApiType != ApiConfigSource.Types.ApiType.Grpc)
            {
                throw Reject(owner, where + ".api_type", $"secret '{sds.Name}' is asked of SDS server '{server}' with {api.ApiType}; the proxy speaks state-of-the-world SDS (SecretDiscoveryService.StreamSecrets) to it, so send api_type: GRPC");
            }

#pragma warning disable CS0612 // V2 is deprecated, and still a value a server may send
            if (api.TransportApiVersion == ApiVersion.V2)
#pragma warning restore CS0612
            {
                throw Reject(owner, where + ".transport_api_version", $"secret '{sds.Name}': the v2 xDS API is not supported; send transport_api_version: V3");
            }

            return new SecretReference(sds.Name, kind, server);
        }

        /// <summary>
        /// A secret from a source other than the ADS stream or a known SDS server: istio-agent's socket serves
        /// <c>default</c> and <c>ROOTCA</c>, which the proxy takes from its own mesh identity; anything else it cannot fetch.
        /// </summary>
        private MeshIdentityConfig MeshIdentity(SdsSecretConfig sds, string where, string expected, string what)
        {
            if (sds.Name != expected)
            {
                throw Reject(owner, where, $"secret '{sds.Name}' comes from a source the proxy does not reach; secrets come over ADS (sds_config: {{ ads: {{}} }}) or from an SDS server of xds.secret_servers (sds_config.api_config_source, GRPC, with grpc_services[0].envoy_grpc.cluster_name naming it); only istio-agent's '{expected}' ({what}) may also come from mesh.identity");
            }

            return context.MeshIdentity
                ?? throw Reject(owner, where, $"secret '{sds.Name}' ({what}) comes from istio-agent's SDS socket; the proxy takes it from its mesh identity, so configure mesh.identity (cert, key, ca), name the socket in xds.secret_servers, or send the secret over ADS");
        }

        /// <summary>A DataSource as a file path or PEM text.</summary>
        private (string? File, string? Inline) Source(DataSource source, string where) => source.SpecifierCase switch
        {
            DataSource.SpecifierOneofCase.Filename => (source.Filename, null),
            DataSource.SpecifierOneofCase.InlineBytes => (null, Encoding.UTF8.GetString(source.InlineBytes.Span)),
            DataSource.SpecifierOneofCase.InlineString => (null, source.InlineString),
            _ => throw Reject(owner, where, "only filename, inline_bytes and inline_string are supported"),
        };

        private string ReadFile(string path, string where)
        {
            try
            {
                return File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Reject(owner, where, $"the file {path} cannot be read; check that it exists and the proxy may read it");
            }
        }

        private static string InlineName(string first, string second)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(first + "\n" + second));
            return "inline:" + Convert.ToHexStringLower(hash.AsSpan(0, 12));
        }
    }

    private static XdsRejectedException Reject(string owner, string field, string why) => new($"{owner}: {field}: {why}");
}
