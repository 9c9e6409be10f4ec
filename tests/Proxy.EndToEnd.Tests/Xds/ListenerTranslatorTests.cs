using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Envoy.Extensions.Filters.Network.TcpProxy.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;
using Proxy.Xds.Translation;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>Listener, http_connection_manager and tcp_proxy translation: what is mapped, and the NACK sentences for what is not.</summary>
public class ListenerTranslatorTests
{
    private static Listener WithManager(Action<HttpConnectionManager> change)
    {
        var manager = new HttpConnectionManager { Rds = new Rds { RouteConfigName = "r", ConfigSource = new ConfigSource { Ads = new AggregatedConfigSource() } } };
        change(manager);
        return Listener("web", 8080, Hcm(manager));
    }

    private static string Rejected(Listener listener) => Assert.Throws<XdsRejectedException>(() => ListenerTranslator.Translate(listener)).Message;

    [Fact]
    public void Translate_HttpListener_MapsAddressRdsTimeoutsAndLimits()
    {
        var translated = ListenerTranslator.Translate(WithManager(m =>
        {
            m.CommonHttpProtocolOptions = new HttpProtocolOptions { IdleTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(90)) };
            m.StreamIdleTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(30));
            m.RequestHeadersTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(4));
            m.MaxRequestHeadersKb = 96;
        }));

        var config = translated.Config;
        Assert.Equal("web", config.Name);
        Assert.Equal(new HostPort("127.0.0.1", 8080), config.Address);
        Assert.Equal(ListenerProtocol.Http, config.Protocol);
        Assert.Equal("r", translated.RouteConfigName);
        Assert.Null(translated.InlineRoutes);
        Assert.Equal(TimeSpan.FromSeconds(30), config.IdleTimeout); // the shorter of the two idle timeouts
        Assert.Equal(TimeSpan.FromSeconds(4), config.Limits.HeaderTimeout);
        Assert.Equal(96 * 1024, config.Limits.MaxHeaderBytes);
        Assert.Null(config.HttpFilters); // the proxy's default chain (its filters act only on what routes configure)

        // 0 is Envoy's "none": no idle timeout; the head keeps the proxy's bound.
        var zeros = ListenerTranslator.Translate(WithManager(m =>
        {
            m.StreamIdleTimeout = new Duration();
            m.RequestHeadersTimeout = new Duration();
        })).Config;
        Assert.Equal(TimeSpan.Zero, zeros.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), zeros.Limits.HeaderTimeout);
    }

    [Fact]
    public void Translate_InlineRoutes_AndFiltersThatChangeNothing_AreAccepted()
    {
        var listener = InlineHttpListener("web", 80, Routes("inline", Prefix("/", "backend")));
        var manager = HttpConnectionManager.Parser.ParseFrom(listener.FilterChains[0].Filters[0].TypedConfig.Value);
        manager.HttpFilters.Insert(0, new HttpFilter { Name = "envoy.filters.http.fault", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault" } });
        manager.HttpFilters.Insert(0, new HttpFilter { Name = "istio.stats", TypedConfig = new Any { TypeUrl = "type.googleapis.com/udpa.type.v1.TypedStruct" } });
        manager.HttpFilters.Insert(0, new HttpFilter { Name = "vendor.optional", IsOptional = true, TypedConfig = new Any { TypeUrl = "type.googleapis.com/vendor.Thing" } });
        listener.FilterChains[0].Filters[0].TypedConfig = Any.Pack(manager);
        listener.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.tls_inspector" });
        listener.FilterChains[0].FilterChainMatch = new FilterChainMatch { DestinationPort = 80, TransportProtocol = "raw_buffer" };

        var translated = ListenerTranslator.Translate(listener);
        Assert.Null(translated.RouteConfigName);
        Assert.Equal(["backend"], translated.Clusters);
        Assert.Equal(["*"], translated.InlineRoutes!.VirtualHosts[0].Domains);
    }

    [Fact]
    public void Translate_TcpProxy_MapsClusterAndIdleTimeout()
    {
        var translated = ListenerTranslator.Translate(TcpListener("db", 5432, "postgres"));
        Assert.Equal(ListenerProtocol.Tcp, translated.Config.Protocol);
        Assert.Equal("postgres", translated.Config.Cluster);
        Assert.Equal(TimeSpan.FromHours(1), translated.Config.IdleTimeout); // Envoy's default
        Assert.Equal(["postgres"], translated.Clusters);

        var proxy = new TcpProxy { StatPrefix = "db", Cluster = "postgres", IdleTimeout = new Duration() };
        var noIdle = ListenerTranslator.Translate(Listener("db", 5432, new Filter { Name = "envoy.filters.network.tcp_proxy", TypedConfig = Any.Pack(proxy) }));
        Assert.Equal(TimeSpan.Zero, noIdle.Config.IdleTimeout); // 0 turns it off
    }

    [Fact]
    public void Translate_RejectsWhatItCannotHonour_NamingTheField()
    {
        var weighted = new TcpProxy { StatPrefix = "db", WeightedClusters = new TcpProxy.Types.WeightedCluster() };
        weighted.WeightedClusters.Clusters.Add(new TcpProxy.Types.WeightedCluster.Types.ClusterWeight { Name = "a", Weight = 1 });
        Assert.Equal("listener 'db': filter_chains[0]: tcp_proxy: weighted_clusters: a tcp listener forwards to one cluster; send cluster",
            Rejected(Listener("db", 1, new Filter { Name = "envoy.filters.network.tcp_proxy", TypedConfig = Any.Pack(weighted) })));

        var sni = TcpListener("tls", 443, "backend");
        sni.FilterChains[0].FilterChainMatch = new FilterChainMatch { ServerNames = { "api.example.com" }, TransportProtocol = "tls" };
        Assert.Equal("listener 'tls': filter_chains[0].filter_chain_match: matching connections on transport_protocol 'tls', server_names is not supported yet; leave filter_chain_match empty", Rejected(sni));

        var tls = TcpListener("tls", 443, "backend");
        tls.FilterChains[0].TransportSocket = new TransportSocket { Name = "envoy.transport_sockets.tls" };
        Assert.StartsWith("listener 'tls': filter_chains[0].transport_socket: downstream TLS from a management server is not supported yet", Rejected(tls));

        var virtualOutbound = TcpListener("virtualOutbound", 15001, "PassthroughCluster");
        virtualOutbound.UseOriginalDst = true;
        Assert.StartsWith("listener 'virtualOutbound': use_original_dst:", Rejected(virtualOutbound));

        var originalDst = TcpListener("in", 15006, "x");
        originalDst.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.original_dst" });
        Assert.StartsWith("listener 'in': listener_filters[0] 'envoy.filters.listener.original_dst': this listener filter is not supported yet", Rejected(originalDst));

        var pipe = TcpListener("p", 1, "x");
        pipe.Address = new Address { Pipe = new Pipe { Path = "/tmp/s" } };
        Assert.Equal("listener 'p': address: only socket_address is supported (no pipe or internal addresses)", Rejected(pipe));

        Assert.Equal("listener 'web': filter_chains[0]: http_connection_manager: http_filters[0] 'envoy.filters.http.ext_authz': the HTTP filter type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz is not supported as configured; remove it, or mark it is_optional if the listener may run without it",
            Rejected(WithManager(m => m.HttpFilters.Add(new HttpFilter { Name = "envoy.filters.http.ext_authz", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz" } }))));
        Assert.StartsWith("listener 'web': filter_chains[0]: http_connection_manager: http_filters[0] 'envoy.filters.http.rbac': the HTTP filter type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC is not supported as configured",
            Rejected(WithManager(m => m.HttpFilters.Add(new HttpFilter { Name = "envoy.filters.http.rbac", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC", Value = Google.Protobuf.ByteString.CopyFromUtf8("\n\x00") } }))));
        Assert.Equal("listener 'web': filter_chains[0]: http_connection_manager: codec_type: HTTP/3 is not supported; use AUTO, HTTP1 or HTTP2",
            Rejected(WithManager(m => m.CodecType = HttpConnectionManager.Types.CodecType.Http3)));
        Assert.StartsWith("listener 'web': filter_chains[0]: http_connection_manager: request_timeout: the proxy has no timeout for receiving a whole request",
            Rejected(WithManager(m => m.RequestTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)))));
        Assert.Equal("listener 'web': filter_chains[0]: http_connection_manager: rds.config_source: routes from path_config_source are not supported; the proxy takes them over its ADS stream, so set config_source to ads: {}",
            Rejected(WithManager(m => m.Rds.ConfigSource = new ConfigSource { PathConfigSource = new PathConfigSource { Path = "/etc/routes.yaml" } })));
        Assert.StartsWith("listener 'web': filter_chains[0]: http_connection_manager: scoped_routes:",
            Rejected(WithManager(m => m.ScopedRoutes = new ScopedRoutes { Name = "s" })));
    }

    [Fact]
    public void Translate_RouterMissingOrNotLast_IsRejected()
    {
        var noRouter = Listener("web", 80, new Filter
        {
            Name = "envoy.filters.network.http_connection_manager",
            TypedConfig = Any.Pack(new HttpConnectionManager { StatPrefix = "x", Rds = new Rds { RouteConfigName = "r" } }),
        });
        Assert.Equal("listener 'web': filter_chains[0]: http_connection_manager: http_filters: the chain must end with the router (envoy.filters.http.router)", Rejected(noRouter));

        var twice = WithManager(m => m.HttpFilters.Add(new HttpFilter { Name = "envoy.filters.http.router", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }));
        Assert.Equal("listener 'web': filter_chains[0]: http_connection_manager: http_filters[0] 'envoy.filters.http.router': the router must be the last filter, and only once", Rejected(twice));

        var extra = TcpListener("db", 1, "x");
        extra.FilterChains[0].Filters.Insert(0, new Filter { Name = "envoy.filters.network.rbac" });
        Assert.StartsWith("listener 'db': filter_chains[0].filters[0] 'envoy.filters.network.rbac': the network filter envoy.filters.network.rbac is not supported", Rejected(extra));
    }
}
