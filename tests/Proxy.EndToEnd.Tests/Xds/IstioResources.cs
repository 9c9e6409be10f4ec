using Envoy.Config.Cluster.V3;
using Envoy.Config.Core.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Envoy.Extensions.Filters.Network.TcpProxy.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Envoy.Type.Matcher.V3;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;
using RetryPolicy = Envoy.Config.Route.V3.RetryPolicy;
using UpstreamHttpOptions = Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// What istiod sends a sidecar, written the way istiod writes it (pilot/pkg/networking/core: the listener, cluster and
/// route builders): <c>virtualOutbound</c> and <c>virtualInbound</c>, the per-port <c>0.0.0.0_PORT</c> HTTP listeners
/// with RDS route <c>PORT</c>, <c>outbound|PORT|SUBSET|HOST</c> EDS clusters with <c>transport_socket_matches</c> on
/// <c>tlsMode: istio</c>, <c>inbound|PORT||</c> clusters, the passthrough and black-hole clusters, and Istio's HTTP
/// filters. Secrets are istio-agent's <c>default</c> and <c>ROOTCA</c> over its SDS socket (the <c>sds-grpc</c> cluster).
/// </summary>
public static class IstioResources
{
    public const string PassthroughCluster = "PassthroughCluster";
    public const string BlackHoleCluster = "BlackHoleCluster";
    public const string InboundPassthroughCluster = "InboundPassthroughCluster";

    /// <summary>The ALPN tokens a client sidecar offers for HTTP inside mutual TLS (istio.alpn's overrides).</summary>
    public static readonly string[] MtlsHttpAlpn = ["istio-http/1.0", "istio-http/1.1", "istio-h2"];

    /// <summary>The TLS 1.2 suites istiod puts on a sidecar's inbound mutual TLS (security/SupportedCiphers).</summary>
    public static readonly string[] SupportedCiphers =
    [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-GCM-SHA256",
    ];

    public static string Spiffe(string ns, string serviceAccount) => $"spiffe://cluster.local/ns/{ns}/sa/{serviceAccount}";

    public static string Fqdn(string service, string ns) => $"{service}.{ns}.svc.cluster.local";

    public static string OutboundName(int port, string host, string subset = "") => $"outbound|{port}|{subset}|{host}";

    public static string InboundName(int port) => $"inbound|{port}||";

    // ---------------------------------------------------------------- listeners

    /// <summary>
    /// <c>virtualOutbound</c> on 0.0.0.0:15001: <c>use_original_dst</c> hands each connection to the listener of its
    /// original destination; what has none is passed through (<c>virtualOutbound-catchall-tcp</c>), and a connection
    /// to 15001 itself goes to the black hole (a loop).
    /// </summary>
    public static Listener VirtualOutbound()
    {
        var listener = Bound("virtualOutbound", 15001, TrafficDirection.Outbound);
        listener.UseOriginalDst = true;
        listener.FilterChains.Add(Chain("virtualOutbound-blackhole", new FilterChainMatch { DestinationPort = 15001 }, TcpProxy(BlackHoleCluster)));
        listener.FilterChains.Add(Chain("virtualOutbound-catchall-tcp", null, TcpStats("outbound"), TcpProxy(PassthroughCluster)));
        return listener;
    }

    /// <summary>
    /// <c>virtualInbound</c> on 0.0.0.0:15006 (STRICT): <c>original_dst</c>, <c>tls_inspector</c> and
    /// <c>http_inspector</c>; for each of <paramref name="ports"/> an mTLS HTTP chain (ALPN <c>istio-http/*</c>, the
    /// routes inline to <c>inbound|PORT||</c>) and an mTLS TCP chain; the passthrough chains for other ports, and the
    /// black hole for 15006 itself. In STRICT there is no <c>raw_buffer</c> chain: plain text matches nothing.
    /// </summary>
    /// <param name="cipherSuites">Whether the TLS contexts carry istiod's <c>tls_params.cipher_suites</c> (it always sends them).</param>
    public static Listener VirtualInbound(IEnumerable<int> ports, bool cipherSuites = true)
    {
        var listener = Bound("virtualInbound", 15006, TrafficDirection.Inbound);
        listener.ListenerFilters.Add(ListenerFilter("envoy.filters.listener.original_dst", "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"));
        listener.ListenerFilters.Add(ListenerFilter("envoy.filters.listener.tls_inspector", "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"));
        listener.ListenerFilters.Add(ListenerFilter("envoy.filters.listener.http_inspector", "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"));
        listener.ListenerFiltersTimeout = new Duration();
        listener.ContinueOnListenerFiltersTimeout = true;
        listener.FilterChains.Add(Chain("virtualInbound-blackhole", new FilterChainMatch { DestinationPort = 15006 }, TcpProxy(BlackHoleCluster)));
        foreach (var port in ports)
        {
            var http = Chain($"0.0.0.0_{port}", Tls((uint)port, MtlsHttpAlpn), InboundHttp($"inbound_0.0.0.0_{port}", InboundRoutes(port, InboundName(port))));
            http.TransportSocket = InboundTls(["h2", "http/1.1"], cipherSuites);
            listener.FilterChains.Add(http);
            var tcp = Chain($"0.0.0.0_{port}", Tls((uint)port), TcpExchange(), TcpStats("inbound"), TcpProxy(InboundName(port)));
            tcp.TransportSocket = InboundTls(["istio-peer-exchange", "h2", "http/1.1"], cipherSuites);
            listener.FilterChains.Add(tcp);
        }

        var catchallHttp = Chain("virtualInbound-catchall-http", Tls(0, MtlsHttpAlpn), InboundHttp("InboundPassthroughCluster", InboundRoutes(0, InboundPassthroughCluster)));
        catchallHttp.FilterChainMatch.PrefixRanges.Add(new CidrRange { AddressPrefix = "0.0.0.0", PrefixLen = 0 });
        catchallHttp.TransportSocket = InboundTls(["h2", "http/1.1"], cipherSuites);
        listener.FilterChains.Add(catchallHttp);
        var catchallTcp = Chain("virtualInbound", Tls(0), TcpExchange(), TcpStats("inbound"), TcpProxy(InboundPassthroughCluster));
        catchallTcp.FilterChainMatch.PrefixRanges.Add(new CidrRange { AddressPrefix = "0.0.0.0", PrefixLen = 0 });
        catchallTcp.TransportSocket = InboundTls(["istio-peer-exchange", "h2", "http/1.1"], cipherSuites);
        listener.FilterChains.Add(catchallTcp);
        return listener;
    }

    /// <summary>
    /// <c>0.0.0.0_PORT</c>: the outbound HTTP listener of a service port. It binds nothing (<c>bind_to_port: false</c>):
    /// <c>virtualOutbound</c> hands it the connections to that port, and its routes come over RDS as <c>PORT</c>.
    /// </summary>
    public static Listener OutboundHttp(int port)
    {
        var listener = Bound($"0.0.0.0_{port}", (uint)port, TrafficDirection.Outbound);
        listener.BindToPort = false;
        var manager = Manager($"outbound_0.0.0.0_{port}", OutboundHttpFilters());
        manager.Rds = new Rds { RouteConfigName = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ConfigSource = AdsSource() };
        listener.FilterChains.Add(Chain($"0.0.0.0_{port}", null, HcmFilter(manager)));
        var fallback = Chain("PassthroughFilterChain", null, TcpStats("outbound"), TcpProxy(PassthroughCluster));
        listener.DefaultFilterChain = fallback;
        return listener;
    }

    // ---------------------------------------------------------------- routes

    /// <summary>
    /// The RouteConfiguration <c>PORT</c> of the outbound listener: one virtual host per service on that port, then
    /// <c>allow_any</c> (any other host passes through, outboundTrafficPolicy ALLOW_ANY).
    /// </summary>
    public static RouteConfiguration OutboundRoutes(int port, params VirtualHost[] services)
    {
        var config = new RouteConfiguration { Name = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ValidateClusters = false };
        config.VirtualHosts.Add(services);
        var allowAny = new VirtualHost { Name = "allow_any", Domains = { "*" }, IncludeRequestAttemptCount = true };
        allowAny.Routes.Add(new Route
        {
            Name = "allow_any",
            Match = new RouteMatch { Prefix = "/" },
            Route_ = new RouteAction { Cluster = PassthroughCluster, Timeout = new Duration(), MaxStreamDuration = NoStreamDuration() },
        });
        config.VirtualHosts.Add(allowAny);
        return config;
    }

    /// <summary>A service's virtual host, <c>HOST:PORT</c>, with the names Kubernetes clients use for it (short, namespaced, the VIP).</summary>
    public static VirtualHost ServiceHost(string service, string ns, string vip, int port, params Route[] routes)
    {
        var fqdn = Fqdn(service, ns);
        var host = new VirtualHost { Name = $"{fqdn}:{port}", IncludeRequestAttemptCount = true };
        foreach (var name in new[] { fqdn, service, $"{service}.{ns}", $"{service}.{ns}.svc", vip })
        {
            host.Domains.Add([name, $"{name}:{port}"]);
        }
        host.Routes.Add(routes);
        return host;
    }

    /// <summary>The route of a VirtualService (or istiod's default one): everything to <paramref name="cluster"/>, timeout off, Istio's retries.</summary>
    public static Route ServiceRoute(string name, string cluster, string decorator, RetryPolicy? retries = null) => new()
    {
        Name = name,
        Match = new RouteMatch { Prefix = "/" },
        Route_ = new RouteAction { Cluster = cluster, Timeout = new Duration(), RetryPolicy = retries ?? DefaultRetries(), MaxStreamDuration = NoStreamDuration() },
        Decorator = new Decorator { Operation = decorator },
    };

    /// <summary>A VirtualService's weighted destinations: <c>weighted_clusters</c>, as istiod writes them (no total_weight).</summary>
    public static Route WeightedRoute(string name, string decorator, params (string Cluster, uint Weight)[] destinations)
    {
        var split = new WeightedCluster();
        foreach (var (cluster, weight) in destinations)
        {
            split.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = cluster, Weight = weight });
        }

        return new Route
        {
            Name = name,
            Match = new RouteMatch { Prefix = "/" },
            Route_ = new RouteAction { WeightedClusters = split, Timeout = new Duration(), RetryPolicy = DefaultRetries(), MaxStreamDuration = NoStreamDuration() },
            Decorator = new Decorator { Operation = decorator },
        };
    }

    /// <summary>istiod's default retry policy (no VirtualService retries): 2 retries on connect failures, refused streams, unavailable, cancelled and 503.</summary>
    public static RetryPolicy DefaultRetries() => Retries("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", 2, 503);

    /// <summary>A VirtualService's <c>retries: { attempts, retryOn }</c> as istiod writes it: the previous-hosts predicate, 5 host selection attempts.</summary>
    public static RetryPolicy Retries(string retryOn, uint attempts, params uint[] statusCodes)
    {
        var policy = new RetryPolicy { RetryOn = retryOn, NumRetries = attempts, HostSelectionRetryMaxAttempts = 5 };
        policy.RetriableStatusCodes.Add(statusCodes);
        policy.RetryHostPredicate.Add(new RetryPolicy.Types.RetryHostPredicate
        {
            Name = "envoy.retry_host_predicates.previous_hosts",
            TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" },
        });
        return policy;
    }

    // ---------------------------------------------------------------- clusters

    /// <summary>
    /// <c>outbound|PORT|SUBSET|HOST</c>: EDS over ADS, Istio's limits (every circuit breaker at its maximum), the
    /// upstream metadata exchange filter, HTTP/1.1 with an hour's idle timeout, and mutual TLS for the endpoints
    /// labelled <c>tlsMode: istio</c> expecting <paramref name="serverSpiffeId"/>.
    /// </summary>
    /// <param name="roundRobin">A DestinationRule's <c>loadBalancer: { simple: ROUND_ROBIN }</c>; istiod's default is LEAST_REQUEST.</param>
    public static Cluster OutboundCluster(int port, string host, string serverSpiffeId, string subset = "", bool roundRobin = false)
    {
        var name = OutboundName(port, host, subset);
        var cluster = new Cluster
        {
            Name = name,
            Type = Cluster.Types.DiscoveryType.Eds,
            EdsClusterConfig = new Cluster.Types.EdsClusterConfig { EdsConfig = AdsSource(), ServiceName = name },
            ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
            LbPolicy = roundRobin ? Cluster.Types.LbPolicy.RoundRobin : Cluster.Types.LbPolicy.LeastRequest,
            CircuitBreakers = IstioLimits(),
            CommonLbConfig = new Cluster.Types.CommonLbConfig(),
            Metadata = ServiceMetadata(host, port),
        };
        cluster.Filters.Add(new Envoy.Config.Cluster.V3.Filter
        {
            Name = "istio.metadata_exchange",
            TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange", Value = StringField(1, "istio-peer-exchange") },
        });
        var options = new UpstreamHttpOptions
        {
            CommonHttpProtocolOptions = new Envoy.Config.Core.V3.HttpProtocolOptions { IdleTimeout = Duration.FromTimeSpan(TimeSpan.FromHours(1)) },
            ExplicitHttpConfig = new UpstreamHttpOptions.Types.ExplicitHttpConfig { HttpProtocolOptions = new Http1ProtocolOptions() },
        };
        cluster.TypedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] = Any.Pack(options);
        AddIstioMatches(cluster, OutboundTls(port, host, serverSpiffeId));
        return cluster;
    }

    /// <summary>
    /// <c>inbound|PORT||</c> as istiod writes it for a Sidecar resource's ingress <c>defaultEndpoint: 127.0.0.1:PORT</c>:
    /// STATIC, the app on loopback.
    /// </summary>
    public static Cluster InboundCluster(int port)
    {
        var cluster = new Cluster
        {
            Name = InboundName(port),
            Type = Cluster.Types.DiscoveryType.Static,
            ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
            CircuitBreakers = IstioLimits(),
            LoadAssignment = XdsResources.Assignment(InboundName(port), $"127.0.0.1:{port}"),
        };
        cluster.LoadAssignment.Endpoints[0].Locality = null;
        return cluster;
    }

    /// <summary><c>PassthroughCluster</c>: ORIGINAL_DST, where outbound traffic to an unknown destination goes.</summary>
    /// <param name="followDownstreamProtocol">Whether it carries istiod's <c>use_downstream_protocol_config</c> (it always does).</param>
    public static Cluster Passthrough(bool followDownstreamProtocol = true) => OriginalDst(PassthroughCluster, followDownstreamProtocol);

    /// <summary><c>InboundPassthroughCluster</c>: ORIGINAL_DST from 127.0.0.6, where inbound traffic to a port without a chain goes.</summary>
    public static Cluster InboundPassthrough(bool followDownstreamProtocol = true)
    {
        var cluster = OriginalDst(InboundPassthroughCluster, followDownstreamProtocol);
        cluster.UpstreamBindConfig = new BindConfig { SourceAddress = new SocketAddress { Address = "127.0.0.6", PortValue = 0 } };
        return cluster;
    }

    /// <summary><c>BlackHoleCluster</c>: STATIC with no endpoint; what goes there fails.</summary>
    public static Cluster BlackHole() => new() { Name = BlackHoleCluster, Type = Cluster.Types.DiscoveryType.Static, ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) };

    // ---------------------------------------------------------------- endpoints

    /// <summary>
    /// The ClusterLoadAssignment of an outbound cluster: each endpoint a meshed pod (<c>tlsMode: istio</c> and its
    /// workload in the <c>istio</c> metadata), in one locality, healthy, weight 1.
    /// </summary>
    public static ClusterLoadAssignment Endpoints(string cluster, string workload, params string[] addresses)
    {
        var assignment = XdsResources.Assignment(cluster, addresses);
        foreach (var endpoint in assignment.Endpoints[0].LbEndpoints)
        {
            endpoint.LoadBalancingWeight = 1;
            MarkIstio(endpoint);
            var istio = new Struct();
            istio.Fields["workload"] = Value.ForString(workload);
            endpoint.Metadata.FilterMetadata["istio"] = istio;
        }

        assignment.Endpoints[0].LoadBalancingWeight = (uint)addresses.Length;
        return assignment;
    }

    // ---------------------------------------------------------------- parts

    private static Listener Bound(string name, uint port, TrafficDirection direction) => new()
    {
        Name = name,
        Address = new Address { SocketAddress = new SocketAddress { Address = "0.0.0.0", PortValue = port } },
        TrafficDirection = direction,
    };

    private static FilterChain Chain(string name, FilterChainMatch? match, params Envoy.Config.Listener.V3.Filter[] filters)
    {
        var chain = new FilterChain { Name = name, FilterChainMatch = match };
        chain.Filters.Add(filters);
        return chain;
    }

    private static FilterChainMatch Tls(uint port, params string[] alpn)
    {
        var match = new FilterChainMatch { TransportProtocol = "tls" };
        if (port != 0)
        {
            match.DestinationPort = port;
        }

        match.ApplicationProtocols.Add(alpn);
        return match;
    }

    private static ListenerFilter ListenerFilter(string name, string typeUrl) => new() { Name = name, TypedConfig = new Any { TypeUrl = typeUrl } };

    private static Envoy.Config.Listener.V3.Filter TcpProxy(string cluster) => new()
    {
        Name = "envoy.filters.network.tcp_proxy",
        TypedConfig = Any.Pack(new TcpProxy { StatPrefix = cluster, Cluster = cluster }),
    };

    /// <summary>istio.stats on a TCP chain (stats.PluginConfig): telemetry only.</summary>
    private static Envoy.Config.Listener.V3.Filter TcpStats(string direction) => new()
    {
        Name = "istio.stats",
        TypedConfig = new Any { TypeUrl = "type.googleapis.com/stats.PluginConfig", Value = StringField(1, direction) },
    };

    /// <summary>The TCP metadata exchange of an inbound mTLS chain (ALPN istio-peer-exchange): telemetry only.</summary>
    private static Envoy.Config.Listener.V3.Filter TcpExchange() => new()
    {
        Name = "istio.metadata_exchange",
        TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange", Value = StringField(1, "istio-peer-exchange") },
    };

    private static HttpConnectionManager Manager(string statPrefix, IEnumerable<HttpFilter> filters)
    {
        var manager = new HttpConnectionManager
        {
            StatPrefix = statPrefix,
            UseRemoteAddress = false,
            StreamIdleTimeout = new Duration(),
            NormalizePath = true,
            PathWithEscapedSlashesAction = HttpConnectionManager.Types.PathWithEscapedSlashesAction.KeepUnchanged,
            ForwardClientCertDetails = HttpConnectionManager.Types.ForwardClientCertDetails.AppendForward,
            SetCurrentClientCertDetails = new HttpConnectionManager.Types.SetCurrentClientCertDetails { Subject = true, Dns = true, Uri = true },
            ServerName = "istio-envoy",
        };
        manager.UpgradeConfigs.Add(new HttpConnectionManager.Types.UpgradeConfig { UpgradeType = "websocket" });
        manager.HttpFilters.Add(filters);
        return manager;
    }

    private static Envoy.Config.Listener.V3.Filter HcmFilter(HttpConnectionManager manager) => new()
    {
        Name = "envoy.filters.network.http_connection_manager",
        TypedConfig = Any.Pack(manager),
    };

    private static Envoy.Config.Listener.V3.Filter InboundHttp(string statPrefix, RouteConfiguration routes)
    {
        var manager = Manager(statPrefix, InboundHttpFilters());
        manager.RouteConfig = routes;
        return HcmFilter(manager);
    }

    /// <summary>The inline routes of an inbound HTTP chain: everything to <paramref name="cluster"/>, no timeout.</summary>
    private static RouteConfiguration InboundRoutes(int port, string cluster)
    {
        var host = new VirtualHost { Name = port == 0 ? "inbound|http|0" : $"inbound|http|{port}", Domains = { "*" } };
        host.Routes.Add(new Route
        {
            Name = "default",
            Match = new RouteMatch { Prefix = "/" },
            Route_ = new RouteAction { Cluster = cluster, Timeout = new Duration(), MaxStreamDuration = NoStreamDuration() },
            Decorator = new Decorator { Operation = $"{cluster}/*" },
        });
        var config = new RouteConfiguration { Name = port == 0 ? cluster : InboundName(port), ValidateClusters = false };
        config.VirtualHosts.Add(host);
        return config;
    }

    /// <summary>A sidecar's outbound HTTP filters, in istiod's order.</summary>
    private static IEnumerable<HttpFilter> OutboundHttpFilters() =>
    [
        HttpFilter("istio.metadata_exchange", "type.googleapis.com/io.istio.http.peer_metadata.Config"),
        HttpFilter("envoy.filters.http.grpc_stats", "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig"),
        HttpFilter("istio.alpn", "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig"),
        HttpFilter("envoy.filters.http.cors", "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"),
        HttpFilter("envoy.filters.http.fault", "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"),
        HttpFilter("istio.stats", "type.googleapis.com/stats.PluginConfig"),
        HttpFilter("envoy.filters.http.router", "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"),
    ];

    /// <summary>A sidecar's inbound HTTP filters, in istiod's order.</summary>
    private static IEnumerable<HttpFilter> InboundHttpFilters() =>
    [
        HttpFilter("istio.metadata_exchange", "type.googleapis.com/io.istio.http.peer_metadata.Config"),
        HttpFilter("envoy.filters.http.grpc_stats", "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig"),
        HttpFilter("envoy.filters.http.cors", "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"),
        HttpFilter("envoy.filters.http.fault", "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"),
        HttpFilter("istio.stats", "type.googleapis.com/stats.PluginConfig"),
        HttpFilter("envoy.filters.http.router", "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"),
    ];

    private static HttpFilter HttpFilter(string name, string typeUrl) => new() { Name = name, TypedConfig = new Any { TypeUrl = typeUrl } };

    /// <summary>
    /// The server side of a sidecar's mutual TLS (security/authn BuildInboundTLS): the workload certificate
    /// <c>default</c>, clients verified against <c>ROOTCA</c> and required to carry a SPIFFE ID of the trust domain.
    /// </summary>
    private static TransportSocket InboundTls(string[] alpn, bool cipherSuites)
    {
        var common = new CommonTlsContext
        {
            TlsParams = new TlsParameters { TlsMinimumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv12, TlsMaximumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv13 },
            CombinedValidationContext = new CommonTlsContext.Types.CombinedCertificateValidationContext
            {
                DefaultValidationContext = new CertificateValidationContext(),
                ValidationContextSdsSecretConfig = new SdsSecretConfig { Name = "ROOTCA", SdsConfig = IstioAgent() },
            },
        };
        if (cipherSuites)
        {
            common.TlsParams.CipherSuites.Add(SupportedCiphers);
        }

#pragma warning disable CS0612 // istiod still sends the deprecated untyped matchers
        common.CombinedValidationContext.DefaultValidationContext.MatchSubjectAltNames.Add(new StringMatcher { Prefix = "spiffe://cluster.local/" });
#pragma warning restore CS0612
        common.AlpnProtocols.Add(alpn);
        common.TlsCertificateSdsSecretConfigs.Add(new SdsSecretConfig { Name = "default", SdsConfig = IstioAgent() });
        var context = new DownstreamTlsContext { CommonTlsContext = common, RequireClientCertificate = true };
        return new TransportSocket { Name = "envoy.transport_sockets.tls", TypedConfig = Any.Pack(context) };
    }

    /// <summary>The client side (cluster_tls.go, ISTIO_MUTUAL): <c>default</c> and <c>ROOTCA</c>, the server's SPIFFE ID, ALPN for the peer exchange, Istio's SNI.</summary>
    private static UpstreamTlsContext OutboundTls(int port, string host, string serverSpiffeId)
    {
        var context = IstioMutual(serverSpiffeId, IstioAgent());
        context.Sni = $"outbound_.{port}_._.{host}";
        context.CommonTlsContext.AlpnProtocols.Add(["istio-peer-exchange", "istio"]);
        return context;
    }

    private static Cluster OriginalDst(string name, bool followDownstreamProtocol)
    {
        var cluster = new Cluster
        {
            Name = name,
            Type = Cluster.Types.DiscoveryType.OriginalDst,
            ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
            LbPolicy = Cluster.Types.LbPolicy.ClusterProvided,
            CircuitBreakers = IstioLimits(),
        };
        if (followDownstreamProtocol)
        {
            var options = new UpstreamHttpOptions
            {
                UseDownstreamProtocolConfig = new UpstreamHttpOptions.Types.UseDownstreamHttpConfig { HttpProtocolOptions = new Http1ProtocolOptions(), Http2ProtocolOptions = new Http2ProtocolOptions() },
            };
            cluster.TypedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] = Any.Pack(options);
        }

        return cluster;
    }

    /// <summary>istiod's circuit breakers when no DestinationRule sets them: every threshold at its maximum, remaining tracked.</summary>
    private static CircuitBreakers IstioLimits()
    {
        var breakers = new CircuitBreakers();
        breakers.Thresholds.Add(new CircuitBreakers.Types.Thresholds
        {
            MaxConnections = uint.MaxValue,
            MaxPendingRequests = uint.MaxValue,
            MaxRequests = uint.MaxValue,
            MaxRetries = uint.MaxValue,
            TrackRemaining = true,
        });
        return breakers;
    }

    /// <summary>The cluster's <c>istio</c> metadata: the service it is for and its port.</summary>
    private static Metadata ServiceMetadata(string host, int port)
    {
        var service = new Struct();
        service.Fields["host"] = Value.ForString(host);
        service.Fields["name"] = Value.ForString(host.Split('.')[0]);
        service.Fields["namespace"] = Value.ForString(host.Split('.')[1]);
        var istio = new Struct();
        istio.Fields["services"] = Value.ForList(Value.ForStruct(service));
        istio.Fields["default_original_port"] = Value.ForNumber(port);
        var metadata = new Metadata();
        metadata.FilterMetadata["istio"] = istio;
        return metadata;
    }

    private static ConfigSource AdsSource() => new() { Ads = new AggregatedConfigSource(), InitialFetchTimeout = new Duration(), ResourceApiVersion = ApiVersion.V3 };

    private static RouteAction.Types.MaxStreamDuration NoStreamDuration() => new() { MaxStreamDuration_ = new Duration(), GrpcTimeoutHeaderMax = new Duration() };

    /// <summary>A message of one string field, encoded, for the typed_config of Istio's own filters (no C# for their protos here).</summary>
    private static ByteString StringField(int field, string value)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
        output.Flush();
        return ByteString.CopyFrom(stream.ToArray());
    }
}
