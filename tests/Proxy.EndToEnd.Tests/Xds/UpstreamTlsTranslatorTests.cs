using System.Security.Authentication;
using Envoy.Config.Cluster.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Envoy.Type.Matcher.V3;
using Proxy.Configuration;
using Proxy.Xds.Translation;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// A cluster's transport sockets (UpstreamTlsContext, transport_socket_matches) and SDS secrets translated onto the
/// proxy's TLS configuration, and the NACK sentences for what it cannot honour.
/// </summary>
public class UpstreamTlsTranslatorTests
{
    private static readonly MeshIdentityConfig Identity = new() { Cert = "/etc/mesh/cert.pem", Key = "/etc/mesh/key.pem", Ca = "/etc/mesh/ca.pem" };

    [Fact]
    public void Files_MapOntoTheClustersTls_WithSanMatchersVersionsAndAlpn()
    {
        var cluster = XdsResources.EdsCluster("secure");
        cluster.TransportSocket = TlsSocket(FromFiles("/c/cert.pem", "/c/key.pem", "/c/ca.pem", "spiffe://e2e.test/upstream"));
        var tls = ClusterTranslator.Translate(cluster).Config.Tls!;
        Assert.Equal("upstream.test", tls.Sni);
        Assert.Equal(("/c/cert.pem", "/c/key.pem", "/c/ca.pem"), (tls.Cert, tls.Key, tls.Ca));
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, tls.Versions);
        Assert.Equal(["http/1.1"], tls.Alpn);
        Assert.Equal([new SubjectAltNameMatchConfig { Type = SubjectAltNameType.Uri, Value = "spiffe://e2e.test/upstream" }], tls.SubjectAltNames);
        Assert.False(tls.InsecureSkipVerify);
    }

    [Fact]
    public void UndecodableTypedConfig_IsARejectionNamingTheField()
    {
        // Before, InvalidProtocolBufferException escaped the translator and ended the ADS stream instead of a NACK.
        var cluster = XdsResources.EdsCluster("c");
        cluster.TransportSocket = new Envoy.Config.Core.V3.TransportSocket
        {
            Name = "envoy.transport_sockets.tls",
            TypedConfig = new Google.Protobuf.WellKnownTypes.Any { TypeUrl = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", Value = Google.Protobuf.ByteString.CopyFrom([0x0a, 0x05, 0x01]) },
        };
        var error = Assert.Throws<XdsRejectedException>(() => ClusterTranslator.Translate(cluster)).Message;
        Assert.StartsWith("cluster 'c': transport_socket.typed_config cannot be decoded as envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext (", error);
    }

    [Fact]
    public void NoValidationContext_VerifiesNothing_AsEnvoy_AndTrustedCaAlone_ChecksTheChainOnly()
    {
        var cluster = XdsResources.EdsCluster("c");
        cluster.TransportSocket = TlsSocket(new UpstreamTlsContext());
        var tls = ClusterTranslator.Translate(cluster).Config.Tls!;
        Assert.True(tls.InsecureSkipVerify);

        var context = new UpstreamTlsContext { CommonTlsContext = new CommonTlsContext { ValidationContext = new CertificateValidationContext { TrustedCa = FileSource("/c/ca.pem") } } };
        cluster.TransportSocket = TlsSocket(context);
        tls = ClusterTranslator.Translate(cluster).Config.Tls!;
        Assert.Equal(("/c/ca.pem", false, false), (tls.Ca, tls.InsecureSkipVerify, tls.CheckServerName));
    }

    [Fact]
    public void InlinePem_IsHeldAsAContentNamedSecret()
    {
        var context = new UpstreamTlsContext { CommonTlsContext = new CommonTlsContext { ValidationContext = new CertificateValidationContext { TrustedCa = Inline("-----BEGIN CERTIFICATE-----") } } };
        context.CommonTlsContext.TlsCertificates.Add(new TlsCertificate { CertificateChain = Inline("chain"), PrivateKey = Inline("key") });
        var cluster = XdsResources.EdsCluster("c");
        cluster.TransportSocket = TlsSocket(context);
        var translated = ClusterTranslator.Translate(cluster);
        var tls = translated.Config.Tls!;
        Assert.StartsWith("inline:", tls.CertificateSecret);
        Assert.StartsWith("inline:", tls.CaSecret);
        Assert.Null(tls.Cert);
        Assert.Equal(2, translated.Sockets!.Inline.Count);
        Assert.Contains(translated.Sockets.Inline, s => s.StoreName == tls.CertificateSecret && s.CertificatePem == "chain" && s.KeyPem == "key");
    }

    [Fact]
    public void ConfigDump_RedactsInlinePrivateKeys_AndLeavesTheResourceAsSent()
    {
        var context = new UpstreamTlsContext { CommonTlsContext = new CommonTlsContext() };
        context.CommonTlsContext.TlsCertificates.Add(new TlsCertificate { CertificateChain = Inline("chain"), PrivateKey = Inline("-----BEGIN PRIVATE KEY-----") });
        var cluster = XdsResources.EdsCluster("c");
        AddIstioMatches(cluster, context);
        var redacted = Proxy.Xds.Admin.SecretRedaction.Redact(cluster);
        var shown = redacted.TransportSocketMatches[0].TransportSocket.TypedConfig.Unpack<UpstreamTlsContext>().CommonTlsContext.TlsCertificates[0];
        Assert.Equal(("[redacted]", "chain"), (shown.PrivateKey.InlineString, shown.CertificateChain.InlineBytes.ToStringUtf8()));
        var sent = cluster.TransportSocketMatches[0].TransportSocket.TypedConfig.Unpack<UpstreamTlsContext>().CommonTlsContext.TlsCertificates[0];
        Assert.Equal("-----BEGIN PRIVATE KEY-----", sent.PrivateKey.InlineBytes.ToStringUtf8());
    }

    [Fact]
    public void IstioCluster_SdsOverAds_AndTransportSocketMatches_ChooseTlsPerEndpoint()
    {
        var cluster = XdsResources.StaticCluster("outbound|80||api.shop.svc.cluster.local", "10.0.0.1:80", "10.0.0.2:80");
        AddIstioMatches(cluster, IstioMutual("spiffe://cluster.local/ns/shop/sa/api", Ads()));
        MarkIstio(cluster.LoadAssignment.Endpoints[0].LbEndpoints[0]);
        var translated = ClusterTranslator.Translate(cluster);
        var tls = translated.Config.Tls!;
        Assert.Equal(("sds:default", "sds:ROOTCA"), (tls.CertificateSecret, tls.CaSecret));
        Assert.Equal([new SubjectAltNameMatchConfig { Type = SubjectAltNameType.Any, Value = "spiffe://cluster.local/ns/shop/sa/api" }], tls.SubjectAltNames);
        Assert.Equal([new SecretReference("default", SecretKind.Certificate), new SecretReference("ROOTCA", SecretKind.ValidationContext)], translated.Sockets!.Secrets);

        // 10.0.0.1 is labelled tlsMode: istio and gets TLS; 10.0.0.2 is not and goes plain.
        Assert.Equal([false, true], translated.Config.Endpoints.Select(e => e.PlainText));
    }

    [Fact]
    public void IstioAgentSecrets_MapOntoMeshIdentity_OrAreRejectedSayingWhatToConfigure()
    {
        var cluster = XdsResources.EdsCluster("outbound|80||api.shop.svc.cluster.local");
        AddIstioMatches(cluster, IstioMutual("spiffe://cluster.local/ns/shop/sa/api", IstioAgent()));
        var tls = ClusterTranslator.Translate(cluster, new XdsTranslationContext(Identity)).Config.Tls!;
        Assert.Equal((Identity.Cert, Identity.Key, Identity.Ca), (tls.Cert, tls.Key, tls.Ca));
        Assert.Null(tls.CertificateSecret);

        var error = Assert.Throws<XdsRejectedException>(() => ClusterTranslator.Translate(cluster));
        Assert.Equal("cluster 'outbound|80||api.shop.svc.cluster.local': transport_socket_matches[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name: "
            + "secret 'default' (the workload certificate) comes from the SDS server 'sds-grpc', which the proxy does not know; add it to xds.secret_servers (sds-grpc: unix:./var/run/secrets/workload-spiffe-uds/socket, istio-agent's socket), "
            + "or configure mesh.identity (cert, key, ca) to take it from files", error.Message);
    }

    [Fact]
    public void SecretsFromANamedSdsServer_AreReferencedFromIt_BeforeTheMeshIdentity_AndOnlyOverStateOfTheWorldGrpc()
    {
        var cluster = XdsResources.EdsCluster("outbound|80||api.shop.svc.cluster.local");
        AddIstioMatches(cluster, IstioMutual("spiffe://cluster.local/ns/shop/sa/api", IstioAgent()));
        var agent = new XdsTranslationContext(Identity) { SecretServers = new HashSet<string> { "sds-grpc" } };
        var translated = ClusterTranslator.Translate(cluster, agent);
        Assert.Equal([new SecretReference("default", SecretKind.Certificate, "sds-grpc"), new SecretReference("ROOTCA", SecretKind.ValidationContext, "sds-grpc")], translated.Sockets!.Secrets);
        var tls = translated.Config.Tls!;
        Assert.Equal(("sds@sds-grpc:default", "sds@sds-grpc:ROOTCA", (string?)null, (string?)null), (tls.CertificateSecret, tls.CaSecret, tls.Cert, tls.Ca));

        // Any secret name may come from a named server, not only istio-agent's two.
        var other = XdsResources.EdsCluster("c");
        var context = IstioMutual("spiffe://x", IstioAgent());
        context.CommonTlsContext.TlsCertificateSdsSecretConfigs[0].Name = "spiffe-cert";
        other.TransportSocket = TlsSocket(context);
        Assert.Equal("spiffe-cert", ClusterTranslator.Translate(other, agent).Sockets!.Secrets[0].Name);

        // Delta SDS to such a server is not spoken: said, with the field.
        context.CommonTlsContext.TlsCertificateSdsSecretConfigs[0].SdsConfig.ApiConfigSource.ApiType = Envoy.Config.Core.V3.ApiConfigSource.Types.ApiType.DeltaGrpc;
        other.TransportSocket = TlsSocket(context);
        Assert.Equal("cluster 'c': transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.api_config_source.api_type: "
            + "secret 'spiffe-cert' is asked of SDS server 'sds-grpc' with DeltaGrpc; the proxy speaks state-of-the-world SDS (SecretDiscoveryService.StreamSecrets) to it, so send api_type: GRPC",
            Assert.Throws<XdsRejectedException>(() => ClusterTranslator.Translate(other, agent)).Message);
    }

    public static TheoryData<string, Action<UpstreamTlsContext>, string> Unsupported => new()
    {
        { "ciphers", c => c.CommonTlsContext.TlsParams.CipherSuites.Add("ECDHE-RSA-AES128-GCM-SHA256"), "transport_socket.typed_config.common_tls_context.tls_params: cipher_suites, ecdh_curves and signature_algorithms are not supported" },
        { "tls 1.0", c => c.CommonTlsContext.TlsParams.TlsMinimumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv10, "transport_socket.typed_config.common_tls_context.tls_params: Tlsv10 is not supported; the proxy speaks TLS 1.2 and 1.3" },
        { "regex san", c => c.CommonTlsContext.ValidationContext.MatchTypedSubjectAltNames.Add(new SubjectAltNameMatcher { SanType = SubjectAltNameMatcher.Types.SanType.Dns, Matcher = new StringMatcher { SafeRegex = new RegexMatcher { Regex = ".*" } } }),
            "transport_socket.typed_config.common_tls_context.validation_context.match_typed_subject_alt_names[1].matcher: SafeRegex matching of subject alt names is not supported" },
        { "san without ca", c => c.CommonTlsContext.ValidationContext.TrustedCa = null, "transport_socket.typed_config.common_tls_context.validation_context: subject alt names are checked only on a verified chain; give trusted_ca" },
        { "pinning", c => c.CommonTlsContext.ValidationContext.VerifyCertificateHash.Add("ab"), "transport_socket.typed_config.common_tls_context.validation_context: certificate pinning" },
        { "two certs", c => c.CommonTlsContext.TlsCertificateSdsSecretConfigs.Add(new SdsSecretConfig { Name = "x", SdsConfig = Ads() }), "transport_socket.typed_config.common_tls_context: more than one client certificate is given" },
        { "other sds", c => c.CommonTlsContext.ValidationContextSdsSecretConfig = new SdsSecretConfig { Name = "file-root:/etc/ca.pem", SdsConfig = IstioAgent() },
            "transport_socket.typed_config.common_tls_context.validation_context_sds_secret_config.sds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name: secret 'file-root:/etc/ca.pem' comes from the SDS server 'sds-grpc', which the proxy does not know; add it to xds.secret_servers" },
        { "static secret", c => c.CommonTlsContext.ValidationContextSdsSecretConfig = new SdsSecretConfig { Name = "ca" }, "transport_socket.typed_config.common_tls_context.validation_context_sds_secret_config.sds_config: secret 'ca' has no sds_config" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Unsupported_IsRejected_NamingClusterAndField(string what, Action<UpstreamTlsContext> change, string expected)
    {
        _ = what;
        var context = FromFiles("/c/cert.pem", "/c/key.pem", "/c/ca.pem", "spiffe://e2e.test/upstream");
        change(context);
        var cluster = XdsResources.EdsCluster("c");
        cluster.TransportSocket = TlsSocket(context);
        var error = Assert.Throws<XdsRejectedException>(() => ClusterTranslator.Translate(cluster));
        Assert.StartsWith("cluster 'c': " + expected, error.Message);
    }

    [Fact]
    public void TwoDifferentTlsContexts_InOneCluster_AreRejected()
    {
        var cluster = XdsResources.EdsCluster("c");
        cluster.TransportSocket = TlsSocket(FromFiles("/c/cert.pem", "/c/key.pem", "/c/ca.pem", "spiffe://a"));
        AddIstioMatches(cluster, FromFiles("/c/cert.pem", "/c/key.pem", "/c/ca.pem", "spiffe://b"));
        var error = Assert.Throws<XdsRejectedException>(() => ClusterTranslator.Translate(cluster));
        Assert.StartsWith("cluster 'c': transport_socket_matches[0].transport_socket: a second, different TLS context", error.Message);
    }

    [Fact]
    public void Assignment_CarriesEachEndpointsSocketMetadata_OrItsLocalitys()
    {
        var assignment = XdsResources.Assignment("api", "10.0.0.1:80", "10.0.0.2:80");
        MarkIstio(assignment.Endpoints[0].LbEndpoints[1]);
        var (endpoints, metadata) = LoadAssignmentTranslator.TranslateWithMetadata(assignment, "api");
        Assert.Equal(2, endpoints.Count);
        Assert.Null(metadata[0]);
        Assert.Equal("istio", metadata[1]!.Fields["tlsMode"].StringValue);

        var cluster = XdsResources.EdsCluster("api");
        AddIstioMatches(cluster, FromFiles("/c/cert.pem", "/c/key.pem", "/c/ca.pem", "spiffe://a"));
        var sockets = ClusterTranslator.Translate(cluster).Sockets!;
        Assert.Equal([true, false], sockets.Select(endpoints, metadata).Select(e => e.PlainText));
    }

    [Fact]
    public void Secrets_CertificateAndValidationContext_AndWhatIsRejected()
    {
        var certificate = SecretTranslator.Translate(CertificateSecret("default", "CHAIN", "KEY"));
        Assert.Equal(new TranslatedSecret("default", SecretKind.Certificate, "CHAIN", "KEY", null), certificate);
        var ca = SecretTranslator.Translate(CaSecret("ROOTCA", "ROOTS"));
        Assert.Equal(new TranslatedSecret("ROOTCA", SecretKind.ValidationContext, null, null, "ROOTS"), ca);

        var keys = new Secret { Name = "ticket", SessionTicketKeys = new TlsSessionTicketKeys() };
        Assert.Equal("secret 'ticket': SessionTicketKeys: clusters use only tls_certificate and validation_context secrets", Assert.Throws<XdsRejectedException>(() => SecretTranslator.Translate(keys)).Message);
        var sans = CaSecret("ROOTCA", "ROOTS");
        sans.ValidationContext.MatchTypedSubjectAltNames.Add(UriSan("spiffe://x"));
        Assert.StartsWith("secret 'ROOTCA': validation_context: only trusted_ca is taken", Assert.Throws<XdsRejectedException>(() => SecretTranslator.Translate(sans)).Message);
    }
}
