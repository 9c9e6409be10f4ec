using Envoy.Config.Cluster.V3;
using Envoy.Config.Core.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Envoy.Type.Matcher.V3;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>Upstream TLS resources as a control plane (Istio's istiod, say) sends them, built for the tests.</summary>
public static class XdsTlsResources
{
    public static DataSource FileSource(string path) => new() { Filename = path };

    public static DataSource Inline(string text) => new() { InlineBytes = ByteString.CopyFromUtf8(text) };

    public static ConfigSource Ads() => new() { Ads = new AggregatedConfigSource(), ResourceApiVersion = ApiVersion.V3 };

    /// <summary>How istiod names istio-agent's SDS: the <c>sds-grpc</c> cluster (a Unix socket).</summary>
    public static ConfigSource IstioAgent()
    {
        var source = new ConfigSource
        {
            ApiConfigSource = new ApiConfigSource { ApiType = ApiConfigSource.Types.ApiType.Grpc, TransportApiVersion = ApiVersion.V3, SetNodeOnFirstMessageOnly = true },
            InitialFetchTimeout = new Duration(),
            ResourceApiVersion = ApiVersion.V3,
        };
        source.ApiConfigSource.GrpcServices.Add(new GrpcService { EnvoyGrpc = new GrpcService.Types.EnvoyGrpc { ClusterName = "sds-grpc" } });
        return source;
    }

    public static SubjectAltNameMatcher UriSan(string exact) => new() { SanType = SubjectAltNameMatcher.Types.SanType.Uri, Matcher = new StringMatcher { Exact = exact } };

    /// <summary>A TLS transport socket with <paramref name="context"/>.</summary>
    public static TransportSocket TlsSocket(UpstreamTlsContext context) => new() { Name = "envoy.transport_sockets.tls", TypedConfig = Any.Pack(context) };

    public static TransportSocket Raw() => new()
    {
        Name = "envoy.transport_sockets.raw_buffer",
        TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer" },
    };

    /// <summary>TLS with a client certificate and CA from files, checking the server's URI SAN.</summary>
    public static UpstreamTlsContext FromFiles(string cert, string key, string ca, string serverSpiffeId, string sni = "upstream.test")
    {
        var common = new CommonTlsContext
        {
            TlsParams = new TlsParameters { TlsMinimumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv12, TlsMaximumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv13 },
            ValidationContext = new CertificateValidationContext { TrustedCa = FileSource(ca) },
        };
        common.TlsCertificates.Add(new TlsCertificate { CertificateChain = FileSource(cert), PrivateKey = FileSource(key) });
        common.ValidationContext.MatchTypedSubjectAltNames.Add(UriSan(serverSpiffeId));
        common.AlpnProtocols.Add("http/1.1");
        return new UpstreamTlsContext { Sni = sni, CommonTlsContext = common };
    }

    /// <summary>What istiod sends for mTLS to a meshed endpoint: SDS <c>default</c> and <c>ROOTCA</c> from <paramref name="source"/>, the server's SPIFFE ID checked.</summary>
    public static UpstreamTlsContext IstioMutual(string serverSpiffeId, ConfigSource source)
    {
        var common = new CommonTlsContext
        {
            TlsParams = new TlsParameters { TlsMinimumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv12, TlsMaximumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv13 },
            CombinedValidationContext = new CommonTlsContext.Types.CombinedCertificateValidationContext
            {
                DefaultValidationContext = new CertificateValidationContext(),
                ValidationContextSdsSecretConfig = new SdsSecretConfig { Name = "ROOTCA", SdsConfig = source },
            },
        };
#pragma warning disable CS0612 // istiod still sends the deprecated untyped matchers
        common.CombinedValidationContext.DefaultValidationContext.MatchSubjectAltNames.Add(new StringMatcher { Exact = serverSpiffeId });
#pragma warning restore CS0612
        common.TlsCertificateSdsSecretConfigs.Add(new SdsSecretConfig { Name = "default", SdsConfig = source });
        return new UpstreamTlsContext { Sni = "outbound_.80_._.api.shop.svc.cluster.local", CommonTlsContext = common };
    }

    /// <summary>Istio's pair: <c>tlsMode-istio</c> (TLS for endpoints labelled tlsMode: istio), <c>tlsMode-disabled</c> (raw for the rest).</summary>
    public static void AddIstioMatches(Cluster cluster, UpstreamTlsContext tls)
    {
        var istio = new Struct();
        istio.Fields["tlsMode"] = Value.ForString("istio");
        cluster.TransportSocketMatches.Add(new Cluster.Types.TransportSocketMatch { Name = "tlsMode-istio", Match = istio, TransportSocket = TlsSocket(tls) });
        cluster.TransportSocketMatches.Add(new Cluster.Types.TransportSocketMatch { Name = "tlsMode-disabled", Match = new Struct(), TransportSocket = Raw() });
    }

    /// <summary>Marks an endpoint as Istio does for a meshed pod.</summary>
    public static void MarkIstio(Envoy.Config.Endpoint.V3.LbEndpoint endpoint)
    {
        var match = new Struct();
        match.Fields["tlsMode"] = Value.ForString("istio");
        endpoint.Metadata ??= new Metadata();
        endpoint.Metadata.FilterMetadata["envoy.transport_socket_match"] = match;
    }

    public static Secret CertificateSecret(string name, string certPem, string keyPem) =>
        new() { Name = name, TlsCertificate = new TlsCertificate { CertificateChain = Inline(certPem), PrivateKey = Inline(keyPem) } };

    public static Secret CaSecret(string name, string caPem) =>
        new() { Name = name, ValidationContext = new CertificateValidationContext { TrustedCa = Inline(caPem) } };
}
