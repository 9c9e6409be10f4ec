using System.Net.Security;
using Proxy.Configuration;
using Proxy.Xds.Translation;
using static Proxy.EndToEnd.Tests.Xds.IstioResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// istiod's resources for a sidecar (<see cref="IstioResources"/>) through the translators, in process: what is taken,
/// how it maps, and the sentences for what is refused.
/// </summary>
public class IstioTranslationTests
{
    private static readonly XdsTranslationContext Mesh = new(new MeshIdentityConfig { Cert = "/etc/istio/cert.pem", Key = "/etc/istio/key.pem", Ca = "/etc/istio/ca.pem" });
    private static readonly string Api = Fqdn("api", "shop");

    [Fact]
    public void OutboundCluster_AsIstiodSendsIt_IsTaken_MutualTlsForMeshedEndpointsOnly()
    {
        var translated = ClusterTranslator.Translate(OutboundCluster(80, Api, Spiffe("shop", "api")), Mesh);

        var config = translated.Config;
        Assert.Equal("outbound|80||api.shop.svc.cluster.local", config.Name);
        Assert.Equal(ClusterProtocol.Http1, config.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(10), config.ConnectTimeout);
        var sockets = translated.Sockets!;
        Assert.Equal(["istio"], sockets.Tls!.Alpn); // the peer exchange is not run, so not offered
        Assert.False(sockets.DefaultTls);
        var meshed = new Google.Protobuf.WellKnownTypes.Struct();
        meshed.Fields["tlsMode"] = Google.Protobuf.WellKnownTypes.Value.ForString("istio");
        Assert.True(sockets.TlsFor(meshed));
        Assert.False(sockets.TlsFor(new Google.Protobuf.WellKnownTypes.Struct()));
    }

    [Fact]
    public void OutboundClusterEndpoints_AreTaken()
    {
        var assignment = Endpoints(OutboundName(80, Api), "api;shop;api;v1;Kubernetes", "10.0.0.7:8080", "10.0.0.8:8080");
        var endpoints = LoadAssignmentTranslator.Translate(assignment, OutboundName(80, Api));
        Assert.Equal(["10.0.0.7:8080", "10.0.0.8:8080"], endpoints.Select(e => e.Address.ToString()));
    }

    [Fact]
    public void BlackHoleAndInboundClusters_AreTaken()
    {
        Assert.Empty(ClusterTranslator.Translate(BlackHole(), Mesh).Config.Endpoints);
        var inbound = ClusterTranslator.Translate(InboundCluster(8080), Mesh).Config;
        Assert.Equal("inbound|8080||", inbound.Name);
        Assert.Equal("127.0.0.1:8080", Assert.Single(inbound.Endpoints).Address.ToString());
    }

    [Fact]
    public void VirtualOutbound_HandsOffByOriginalDestination_PassesTheRestThrough()
    {
        var translated = ListenerTranslator.Translate(VirtualOutbound(), Mesh);
        Assert.True(translated.Config.UseOriginalDestination);
        Assert.Equal(new HostPort("0.0.0.0", 15001), translated.Config.Address);
        Assert.Contains(translated.Chains, c => c.Config.Cluster == PassthroughCluster);
        Assert.Contains(translated.Chains, c => c.Config.Cluster == BlackHoleCluster && c.Match!.DestinationPort == 15001);
    }

    [Fact]
    public void OutboundHttpListener_BindsNothing_RoutesOverRds()
    {
        var translated = ListenerTranslator.Translate(OutboundHttp(80), Mesh);
        Assert.False(translated.Config.Bind);
        Assert.Equal("80", translated.RouteConfigName);
    }

    [Fact]
    public void VirtualInbound_WithoutCipherSuites_HasMutualTlsChainsPerPort()
    {
        var translated = ListenerTranslator.Translate(VirtualInbound([8080]), Mesh);
        var perPort = translated.Chains.Where(c => c.Match?.DestinationPort == 8080).ToList();
        Assert.Equal(2, perPort.Count);
        Assert.All(perPort, c => Assert.True(c.Config.Tls!.RequireClientCert));
        Assert.Contains(perPort, c => c.Config.Protocol == ListenerProtocol.Http && c.Match!.ApplicationProtocols.SequenceEqual(MtlsHttpAlpn));
        Assert.Contains(perPort, c => c.Config.Cluster == "inbound|8080||");
    }

    [Fact]
    public void VirtualInbound_AsIstiodSendsIt_TakesItsCipherSuites()
    {
        var translated = ListenerTranslator.Translate(VirtualInbound([8080]), Mesh);
        var tls = translated.Chains.First(c => c.Match?.DestinationPort == 8080).Config.Tls!;
        Assert.Equal(
            [TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
             TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384, TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256],
            tls.CipherSuites);
    }

    [Fact]
    public void CipherSuites_EqualPreferenceGroups_AreTaken_AnUnknownNameIsRefused()
    {
        Assert.Equal([TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256],
            CipherSuiteNames.Parse(["[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]", "ECDHE-RSA-AES128-GCM-SHA256"], "listener 'l'", "f"));
        var error = Assert.Throws<XdsRejectedException>(() => CipherSuiteNames.Parse(["DES-CBC3-SHA"], "listener 'l'", "f")).Message;
        Assert.StartsWith("listener 'l': f: 'DES-CBC3-SHA' is not a TLS 1.2 cipher suite the proxy knows; use ECDHE-ECDSA-AES128-GCM-SHA256", error);
    }

    [Fact]
    public void PassthroughClusters_AsIstiodSendsThem_AreOriginalDestination()
    {
        Assert.NotNull(ClusterTranslator.Translate(Passthrough(), Mesh).Config.OriginalDestination);
        var inbound = ClusterTranslator.Translate(InboundPassthrough(), Mesh).Config;
        Assert.NotNull(inbound.OriginalDestination);
        Assert.Equal("127.0.0.6", inbound.SourceAddress?.ToString());
    }

    [Fact]
    public void OutboundRoutes_RetriesSplitAndAllowAny()
    {
        var routes = OutboundRoutes(80,
            ServiceHost("api", "shop", "10.96.0.10", 80, ServiceRoute("api", OutboundName(80, Api), $"{Api}:80/*", Retries("5xx", 3))),
            ServiceHost("web", "shop", "10.96.0.11", 80, WeightedRoute("web", "web", (OutboundName(80, Api, "v1"), 90), (OutboundName(80, Api, "v2"), 10))));
        var translated = RouteConfigurationTranslator.Translate(routes);
        var hosts = translated.VirtualHosts;
        Assert.Equal(3, hosts.Count);
        Assert.Contains("10.96.0.10", hosts[0].Domains);
        var retries = hosts[0].Routes[0].Retries!;
        Assert.Equal(3, retries.Attempts);
        Assert.Equal([90, 10], hosts[1].Routes[0].Split.Select(s => s.Weight));
        Assert.Equal(PassthroughCluster, hosts[2].Routes[0].Cluster);
    }
}
