using Envoy.Config.Core.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A filter chain's <c>transport_socket</c> (<c>envoy.transport_sockets.tls</c> with a <c>DownstreamTlsContext</c>, or
/// <c>raw_buffer</c>) as the chain's <see cref="TlsServerConfig"/>: its certificate (a file, inline PEM, or an SDS
/// secret over ADS, or istio-agent's <c>default</c> from the mesh identity), the client CA and subject alt names a
/// client certificate is checked against, <c>require_client_certificate</c>, ALPN and versions. The common parts are
/// read as a cluster's are (<see cref="UpstreamTlsTranslator"/>), so both accept and reject the same things.
/// </summary>
internal static class DownstreamTlsTranslator
{
    private const string TlsSocket = "envoy.transport_sockets.tls";
    private const string RawSocket = "envoy.transport_sockets.raw_buffer";

    /// <summary>The TLS to terminate (null for plain text), the SDS secrets it waits for, and the inline PEM it carries.</summary>
    public static (TlsServerConfig? Tls, List<SecretReference> Secrets, List<InlineSecret> Inline) Translate(TransportSocket socket, string owner, string field, XdsTranslationContext context)
    {
        var typeUrl = socket.TypedConfig?.TypeUrl;
        if (typeUrl == XdsTypeUrls.RawBuffer || (typeUrl is null && socket.Name == RawSocket))
        {
            return (null, [], []);
        }

        if (typeUrl != XdsTypeUrls.DownstreamTlsContext && !(typeUrl is null && socket.Name == TlsSocket))
        {
            throw Reject(owner, field, $"transport socket '{socket.Name}' ({typeUrl ?? "no typed_config"}) is not supported; use envoy.transport_sockets.tls with a DownstreamTlsContext, or raw_buffer");
        }

        field += ".typed_config";
        var tls = socket.TypedConfig is { } any ? XdsDecoder.Decode(DownstreamTlsContext.Parser, any.Value, $"{owner}: {field}") : new DownstreamTlsContext();
        if (tls.RequireSni == true)
        {
            throw Reject(owner, field + ".require_sni", "refusing handshakes without a server name is not supported; match on server_names instead");
        }

        if (tls.SessionTicketKeys is not null || tls.SessionTicketKeysSdsSecretConfig is not null)
        {
            throw Reject(owner, field + ".session_ticket_keys", "session ticket keys from the server are not supported (the TLS library makes its own); remove them");
        }

        var common = tls.CommonTlsContext ?? new CommonTlsContext();
        if (common.TlsCertificates.Count + common.TlsCertificateSdsSecretConfigs.Count != 1)
        {
            throw Reject(owner, field + ".common_tls_context", "a TLS chain needs exactly one certificate (one tls_certificates entry or one tls_certificate_sds_secret_configs entry)");
        }

        var (parts, secrets, inline) = new UpstreamTlsTranslator.Builder(owner, field, context, server: true).Build(common);
        var verifies = !parts.InsecureSkipVerify;
        if (verifies && parts.Ca is null && parts.CaSecret is null)
        {
            throw Reject(owner, field + ".common_tls_context", "client certificates are verified against a trusted_ca (a file, inline PEM or an SDS secret); the system store is not taken for clients");
        }

        if (tls.RequireClientCertificate == true && !verifies)
        {
            throw Reject(owner, field + ".require_client_certificate", "a client certificate is required but nothing verifies it; give a validation context with trusted_ca");
        }

        var config = new TlsServerConfig
        {
            Certificates = parts.Cert is { } cert ? new ConfigList<TlsCertificateConfig>([new TlsCertificateConfig { Cert = cert, Key = parts.Key! }]) : ConfigList<TlsCertificateConfig>.Empty,
            CertificateSecret = parts.CertificateSecret,
            ClientCa = verifies ? parts.Ca : null,
            ClientCaSecret = verifies ? parts.CaSecret : null,
            RequireClientCert = tls.RequireClientCertificate == true,
            ClientSubjectAltNames = parts.SubjectAltNames,
            Alpn = parts.Alpn,
            Versions = parts.Versions,
            CipherSuites = common.TlsParams is { CipherSuites.Count: > 0 } p ? CipherSuiteNames.Parse(p.CipherSuites, owner, field + ".common_tls_context.tls_params.cipher_suites") : null,
        };
        return (config, secrets, inline);
    }

    private static XdsRejectedException Reject(string owner, string field, string why) => new($"{owner}: {field}: {why}");
}
