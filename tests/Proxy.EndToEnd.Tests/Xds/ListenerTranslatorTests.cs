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
        listener.FilterChains[0].FilterChainMatch = new FilterChainMatch { DestinationPort = 80 };

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

        var tls = TcpListener("tls", 443, "backend");
        tls.FilterChains[0].TransportSocket = new TransportSocket { Name = "envoy.transport_sockets.tls" };
        Assert.Equal("listener 'tls': filter_chains[0].transport_socket.typed_config.common_tls_context: a TLS chain needs exactly one certificate (one tls_certificates entry or one tls_certificate_sds_secret_configs entry)", Rejected(tls));

        var both = TcpListener("virtualOutbound", 15001, "PassthroughCluster");
        both.UseOriginalDst = true;
        both.BindToPort = false;
        Assert.Equal("listener 'virtualOutbound': use_original_dst: a listener that does not bind (bind_to_port: false) accepts no connection to hand over; set one of them only", Rejected(both));

        var proxyProtocol = TcpListener("in", 15006, "x");
        proxyProtocol.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.proxy_protocol" });
        Assert.StartsWith("listener 'in': listener_filters[0] 'envoy.filters.listener.proxy_protocol': this listener filter is not supported (original_dst is", Rejected(proxyProtocol));

        var pipe = TcpListener("p", 1, "x");
        pipe.Address = new Address { Pipe = new Pipe { Path = "/tmp/s" } };
        Assert.Equal("listener 'p': address: only socket_address is supported (no pipe or internal addresses)", Rejected(pipe));

        Assert.Equal("listener 'web': filter_chains[0]: http_connection_manager: http_filters[0] 'envoy.filters.http.ext_authz': the HTTP filter type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz is not supported as configured; remove it, or mark it is_optional if the listener may run without it",
            Rejected(WithManager(m => m.HttpFilters.Add(new HttpFilter { Name = "envoy.filters.http.ext_authz", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz" } }))));
        Assert.StartsWith("listener 'web': filter_chains[0]: http_connection_manager: http_filters[0] 'envoy.filters.http.jwt_authn': the HTTP filter type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication is not supported as configured",
            Rejected(WithManager(m => m.HttpFilters.Add(new HttpFilter { Name = "envoy.filters.http.jwt_authn", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication", Value = Google.Protobuf.ByteString.CopyFromUtf8("\n\x00") } }))));
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
        extra.FilterChains[0].Filters.Insert(0, new Filter { Name = "envoy.filters.network.ext_authz" });
        Assert.StartsWith("listener 'db': filter_chains[0].filters[0] 'envoy.filters.network.ext_authz': the network filter envoy.filters.network.ext_authz is not supported", Rejected(extra));
    }

    private static FilterChain Chain(string name, FilterChainMatch? match, string cluster)
    {
        var chain = new FilterChain { Name = name, FilterChainMatch = match };
        chain.Filters.Add(TcpListener("x", 1, cluster).FilterChains[0].Filters[0]);
        return chain;
    }

    private static Listener Chains(params FilterChain[] chains)
    {
        var listener = TcpListener("in", 15006, "unused");
        listener.FilterChains.Clear();
        listener.FilterChains.Add(chains);
        return listener;
    }

    [Fact]
    public void Translate_SeveralChains_MapsEveryMatchField_InOrder_WithTheDefaultLast()
    {
        var listener = Chains(
            Chain("tls-a", new FilterChainMatch { DestinationPort = 8443, ServerNames = { "A.Example", "*.b.example" }, TransportProtocol = "tls", ApplicationProtocols = { "h2" } }, "a"),
            Chain("", new FilterChainMatch
            {
                PrefixRanges = { new CidrRange { AddressPrefix = "10.1.2.3", PrefixLen = 8 } },
                DirectSourcePrefixRanges = { new CidrRange { AddressPrefix = "192.168.0.0", PrefixLen = 16 } },
                SourcePrefixRanges = { new CidrRange { AddressPrefix = "::1" } },
                SourceType = FilterChainMatch.Types.ConnectionSourceType.SameIpOrLoopback,
                SourcePorts = { 1000, 2000 },
                TransportProtocol = "raw_buffer",
            }, "b"),
            Chain("plain", null, "c"));
        listener.DefaultFilterChain = Chain("fallback", null, "d");
        listener.ListenerFiltersTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(2));
        listener.ContinueOnListenerFiltersTimeout = true;

        var translated = ListenerTranslator.Translate(listener);
        Assert.True(translated.Chained);
        Assert.Equal(new HostPort("127.0.0.1", 15006), translated.Config.Address);
        Assert.Equal(TimeSpan.FromSeconds(2), translated.Config.ListenerFiltersTimeout);
        Assert.True(translated.Config.ContinueOnListenerFiltersTimeout);
        Assert.Equal(["in/tls-a", "in/filter_chains[1]", "in/plain", "in/default_filter_chain"], translated.Chains.Select(static c => c.Config.Name));
        Assert.Equal(["a", "b", "c", "d"], translated.Clusters);

        var tls = translated.Chains[0].Match!;
        Assert.Equal(8443, tls.DestinationPort);
        Assert.Equal(["a.example", "*.b.example"], tls.ServerNames);
        Assert.Equal("tls", tls.TransportProtocol);
        Assert.Equal(["h2"], tls.ApplicationProtocols);

        var ranges = translated.Chains[1].Match!;
        Assert.Equal(System.Net.IPNetwork.Parse("10.0.0.0/8"), Assert.Single(ranges.PrefixRanges)); // bits past the prefix cleared
        Assert.Equal(System.Net.IPNetwork.Parse("192.168.0.0/16"), Assert.Single(ranges.DirectSourcePrefixRanges));
        Assert.Equal(System.Net.IPNetwork.Parse("::1/128"), Assert.Single(ranges.SourcePrefixRanges)); // no prefix_len: the whole address
        Assert.Equal(ConnectionSourceType.SameIpOrLoopback, ranges.SourceType);
        Assert.Equal([1000, 2000], ranges.SourcePorts);
        Assert.Equal("raw_buffer", ranges.TransportProtocol);

        Assert.Equal(FilterChainMatchConfig.Any, translated.Chains[2].Match);
        Assert.Null(translated.Chains[3].Match); // the default chain
    }

    [Fact]
    public void Translate_OneChainThatTakesEveryConnection_IsTheListenerItself()
    {
        var port = TcpListener("db", 5432, "postgres");
        port.FilterChains[0].FilterChainMatch = new FilterChainMatch { DestinationPort = 5432 };
        var flat = ListenerTranslator.Translate(port);
        Assert.False(flat.Chained);
        Assert.Equal("db", flat.Config.Name);
        Assert.Null(flat.Config.FilterChains);

        var onlyDefault = TcpListener("db", 5432, "postgres");
        onlyDefault.DefaultFilterChain = onlyDefault.FilterChains[0];
        onlyDefault.FilterChains.Clear();
        Assert.False(ListenerTranslator.Translate(onlyDefault).Chained);

        // One chain that only TLS connections reach: the others are closed, so it is a chain.
        var tlsOnly = TcpListener("db", 5432, "postgres");
        tlsOnly.FilterChains[0].FilterChainMatch = new FilterChainMatch { TransportProtocol = "tls" };
        Assert.True(ListenerTranslator.Translate(tlsOnly).Chained);
    }

    [Fact]
    public void Translate_ChainMatchesItCannotHonour_AreRejected_NamingTheField()
    {
        Assert.Equal("listener 'in': filter_chains[1].filter_chain_match: the same as filter_chains[0]'s, so no connection could reach it; give each chain its own match",
            Rejected(Chains(Chain("a", new FilterChainMatch { DestinationPort = 80 }, "a"), Chain("b", new FilterChainMatch { DestinationPort = 80 }, "b"))));
        Assert.Equal("listener 'in': filter_chains[1].filter_chain_match: the same as filter_chains[0]'s, so no connection could reach it; give each chain its own match",
            Rejected(Chains(Chain("a", null, "a"), Chain("b", new FilterChainMatch(), "b"))));
        Assert.Equal("listener 'in': filter_chains[0].filter_chain_match: transport_protocol: 'quic' is not detected by the proxy; use raw_buffer or tls",
            Rejected(Chains(Chain("a", new FilterChainMatch { TransportProtocol = "quic" }, "a"), Chain("b", null, "b"))));
        Assert.Equal("listener 'in': filter_chains[0].filter_chain_match: server_names[0]: 'a.*.example' is not a server name; give an exact name or a wildcard of the form *.example.com",
            Rejected(Chains(Chain("a", new FilterChainMatch { ServerNames = { "a.*.example" } }, "a"), Chain("b", null, "b"))));
        Assert.Equal("listener 'in': filter_chains[0].filter_chain_match: prefix_ranges[0]: prefix_len 33 is longer than the 32 bits of 10.0.0.0",
            Rejected(Chains(Chain("a", new FilterChainMatch { PrefixRanges = { new CidrRange { AddressPrefix = "10.0.0.0", PrefixLen = 33 } } }, "a"), Chain("b", null, "b"))));
        Assert.StartsWith("listener 'in': filter_chains[0].filter_chain_match: address_suffix:",
            Rejected(Chains(Chain("a", new FilterChainMatch { AddressSuffix = "x" }, "a"), Chain("b", null, "b"))));
        Assert.StartsWith("listener 'in': filter_chains[1]: tcp_proxy: cluster: a tcp_proxy needs a cluster",
            Rejected(Chains(Chain("a", new FilterChainMatch { DestinationPort = 1 }, "a"), Chain("b", null, ""))));

        var matcher = Chains(Chain("a", null, "a"));
        matcher.FilterChainMatcher = new global::Xds.Type.Matcher.V3.Matcher();
        Assert.StartsWith("listener 'in': filter_chain_matcher: the matcher tree is not supported", Rejected(matcher));
    }

    [Fact]
    public void Translate_OriginalDstListenerFilter_MatchesOnTheOriginalDestination()
    {
        var chained = Chains(Chain("a", new FilterChainMatch { DestinationPort = 8080 }, "a"), Chain("b", null, "b"));
        chained.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.original_dst" });
        chained.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.tls_inspector", FilterDisabled = new ListenerFilterChainMatchPredicate { AnyMatch = true } });
        Assert.True(ListenerTranslator.Translate(chained).Config.OriginalDestination);
        Assert.False(ListenerTranslator.Translate(Chains(Chain("a", new FilterChainMatch { DestinationPort = 8080 }, "a"), Chain("b", null, "b"))).Config.OriginalDestination);

        var typed = TcpListener("in", 15006, "x");
        typed.ListenerFilters.Add(new ListenerFilter { Name = "original", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst" } });
        Assert.True(ListenerTranslator.Translate(typed).Config.OriginalDestination); // one chain: the listener itself keeps the flag

        var disabled = TcpListener("in", 15006, "x");
        disabled.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.original_dst", FilterDisabled = new ListenerFilterChainMatchPredicate { AnyMatch = true } });
        Assert.Equal("listener 'in': listener_filters[0] 'envoy.filters.listener.original_dst': filter_disabled: turning a listener filter off per connection is not supported", Rejected(disabled));
    }

    private static Listener WithTls(Envoy.Extensions.TransportSockets.Tls.V3.DownstreamTlsContext context)
    {
        var listener = Chains(Chain("tls", new FilterChainMatch { TransportProtocol = "tls" }, "a"), Chain("plain", null, "b"));
        listener.FilterChains[0].TransportSocket = new TransportSocket { Name = "envoy.transport_sockets.tls", TypedConfig = Any.Pack(context) };
        return listener;
    }

    [Fact]
    public void Translate_DownstreamTls_SdsCertificate_CombinedValidation_RequiredClientCertificate()
    {
        var translated = ListenerTranslator.Translate(WithTls(XdsDownstreamTlsBinaryTests.IstioInbound("spiffe://cluster.local/")));
        var chain = translated.Chains[0];
        var tls = chain.Config.Tls!;
        Assert.Equal("sds:default", tls.CertificateSecret);
        Assert.Empty(tls.Certificates);
        Assert.Equal("sds:ROOTCA", tls.ClientCaSecret);
        Assert.True(tls.RequireClientCert);
        var san = Assert.Single(tls.ClientSubjectAltNames);
        Assert.Equal((SubjectAltNameType.Uri, SubjectAltNameMatchKind.Prefix, "spiffe://cluster.local/"), (san.Type, san.Kind, san.Value));
        Assert.Equal(["istio", "app"], tls.Alpn);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13, tls.Versions);
        Assert.Equal(["ROOTCA", "default"], chain.Secrets.Select(static s => s.Name).Order());
        Assert.Null(translated.Chains[1].Config.Tls);

        // Files, no validation context: no client certificate asked for.
        var files = new Envoy.Extensions.TransportSockets.Tls.V3.DownstreamTlsContext { CommonTlsContext = new Envoy.Extensions.TransportSockets.Tls.V3.CommonTlsContext() };
        files.CommonTlsContext.TlsCertificates.Add(new Envoy.Extensions.TransportSockets.Tls.V3.TlsCertificate { CertificateChain = new DataSource { Filename = "/etc/cert.pem" }, PrivateKey = new DataSource { Filename = "/etc/key.pem" } });
        var plain = ListenerTranslator.Translate(WithTls(files)).Chains[0].Config.Tls!;
        Assert.Equal("/etc/cert.pem", Assert.Single(plain.Certificates).Cert);
        Assert.Null(plain.ClientCa);
        Assert.False(plain.RequireClientCert);
        Assert.Empty(plain.Alpn);
    }

    [Fact]
    public void Translate_DownstreamTls_WhatItCannotHonour_IsRejected()
    {
        var sni = XdsDownstreamTlsBinaryTests.IstioInbound("spiffe://x/");
        sni.RequireSni = true;
        Assert.StartsWith("listener 'in': filter_chains[0].transport_socket.typed_config.require_sni:", Rejected(WithTls(sni)));

        var unverified = new Envoy.Extensions.TransportSockets.Tls.V3.DownstreamTlsContext { RequireClientCertificate = true, CommonTlsContext = new Envoy.Extensions.TransportSockets.Tls.V3.CommonTlsContext() };
        unverified.CommonTlsContext.TlsCertificateSdsSecretConfigs.Add(new Envoy.Extensions.TransportSockets.Tls.V3.SdsSecretConfig { Name = "default", SdsConfig = new ConfigSource { Ads = new AggregatedConfigSource() } });
        Assert.Equal("listener 'in': filter_chains[0].transport_socket.typed_config.require_client_certificate: a client certificate is required but nothing verifies it; give a validation context with trusted_ca", Rejected(WithTls(unverified)));

        var tickets = XdsDownstreamTlsBinaryTests.IstioInbound("spiffe://x/");
        tickets.SessionTicketKeys = new Envoy.Extensions.TransportSockets.Tls.V3.TlsSessionTicketKeys();
        Assert.StartsWith("listener 'in': filter_chains[0].transport_socket.typed_config.session_ticket_keys:", Rejected(WithTls(tickets)));

        var agent = XdsDownstreamTlsBinaryTests.IstioInbound("spiffe://x/");
        agent.CommonTlsContext.TlsCertificateSdsSecretConfigs[0].SdsConfig = XdsTlsResources.IstioAgent();
        Assert.StartsWith("listener 'in': filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name: secret 'default' (the workload certificate) comes from the SDS server 'sds-grpc', which the proxy does not know", Rejected(WithTls(agent)));

        var alts = Chains(Chain("tls", new FilterChainMatch { TransportProtocol = "tls" }, "a"));
        alts.FilterChains[0].TransportSocket = new TransportSocket { Name = "envoy.transport_sockets.alts", TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts" } };
        Assert.StartsWith("listener 'in': filter_chains[0].transport_socket: transport socket 'envoy.transport_sockets.alts'", Rejected(alts));
    }

    [Fact]
    public void Translate_UseOriginalDst_AndListenersThatDoNotBind()
    {
        var virtualOutbound = TcpListener("virtualOutbound", 15001, "PassthroughCluster");
        virtualOutbound.UseOriginalDst = true;
        var outbound = ListenerTranslator.Translate(virtualOutbound).Config;
        Assert.True(outbound.UseOriginalDestination);
        Assert.True(outbound.OriginalDestination); // its own chains match on the original destination too
        Assert.True(outbound.Bind);

        var port = TcpListener("0.0.0.0_8080", 8080, "outbound|8080||web");
        port.Address.SocketAddress.Address = "0.0.0.0";
        port.BindToPort = false;
        var handed = ListenerTranslator.Translate(port).Config;
        Assert.False(handed.Bind);
        Assert.False(handed.UseOriginalDestination);

        var chained = Chains(Chain("a", new FilterChainMatch { ServerNames = { "a.example" } }, "a"), Chain("b", null, "b"));
        chained.BindToPort = false;
        Assert.False(ListenerTranslator.Translate(chained).Config.Bind);
    }
}
