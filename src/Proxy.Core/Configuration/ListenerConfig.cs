namespace Proxy.Configuration;

/// <summary>A bound address that accepts downstream connections, with its protocol and routes.</summary>
public sealed record ListenerConfig
{
    /// <summary>Unique name; also the metrics label.</summary>
    public required string Name { get; init; }

    /// <summary>Address to bind.</summary>
    public required HostPort Address { get; init; }

    /// <summary>Protocol (default http).</summary>
    public ListenerProtocol Protocol { get; init; } = ListenerProtocol.Http;

    /// <summary>Target cluster of a tcp listener (and of opaque traffic on an auto listener).</summary>
    public string? Cluster { get; init; }

    /// <summary>Routes of an http or auto listener, tried in order; the first match wins. Empty when <see cref="VirtualHosts"/> is used.</summary>
    public IReadOnlyList<RouteConfig> Routes { get; init; } = ConfigList<RouteConfig>.Empty;

    /// <summary>Routes grouped by the request's Host; empty when the listener has plain <see cref="Routes"/>.</summary>
    public IReadOnlyList<VirtualHostConfig> VirtualHosts { get; init; } = ConfigList<VirtualHostConfig>.Empty;

    /// <summary>The listener's virtual hosts, or its plain routes as the one virtual host <c>*</c>.</summary>
    public IReadOnlyList<VirtualHostConfig> EffectiveVirtualHosts =>
        VirtualHosts.Count > 0 ? VirtualHosts : [VirtualHostConfig.ForPlainRoutes(Routes)];

    /// <summary>TLS termination; null for plain text.</summary>
    public TlsServerConfig? Tls { get; init; }

    /// <summary>A downstream connection idle this long is closed (default 300s).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Upstream connect timeout for tcp forwarding; null means the cluster's.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>HTTP request size and time limits.</summary>
    public HttpLimitsConfig Limits { get; init; } = new();

    /// <summary>Listener-wide request rate limit; null for none.</summary>
    public RateLimitConfig? RateLimit { get; init; }

    /// <summary>
    /// The HTTP filters every request passes before the router, in order (Envoy's <c>http_filters</c>); null for the
    /// default chain (rate_limit, fault, mirror, circuit_breaker).
    /// </summary>
    public IReadOnlyList<string>? HttpFilters { get; init; }

    /// <summary>
    /// The listener's HTTP RBAC policy sets (a management server's <c>envoy.filters.http.rbac</c> filters), in their
    /// order; they run where <c>rbac</c> stands in <see cref="HttpFilters"/>, and a request passes only when each
    /// lets it. Empty for none.
    /// </summary>
    public IReadOnlyList<Filters.Rbac.RbacEngine> HttpRbac { get; init; } = [];

    /// <summary>
    /// The connection-level RBAC policy sets (<c>envoy.filters.network.rbac</c>), judged once per connection after its
    /// TLS handshake; a denied connection is closed. Empty for none.
    /// </summary>
    public IReadOnlyList<Filters.Rbac.RbacEngine> NetworkRbac { get; init; } = [];

    /// <summary>A fault for every request of the listener (a management server's fault filter); a route's own fault wins. Null for none.</summary>
    public FaultConfig? Fault { get; init; }

    /// <summary>Changes to every forwarded request's fields, applied after the route's; null for none.</summary>
    public HeaderChangesConfig? RequestHeaders { get; init; }

    /// <summary>Changes to every relayed response's fields, applied after the route's; null for none.</summary>
    public HeaderChangesConfig? ResponseHeaders { get; init; }

    /// <summary>
    /// Filter chains chosen per connection, in order (a management server's <c>filter_chains</c>); null when the
    /// listener serves every connection itself, as every listener of the file does.
    /// </summary>
    public IReadOnlyList<FilterChainConfig>? FilterChains { get; init; }

    /// <summary>The chain of connections no filter chain matches; null closes them.</summary>
    public ListenerConfig? DefaultFilterChain { get; init; }

    /// <summary>
    /// The connection's destination is its original one (SO_ORIGINAL_DST, before an iptables REDIRECT) rather than the
    /// listener's own address: Envoy's <c>envoy.filters.listener.original_dst</c>. Chains match on it.
    /// </summary>
    public bool OriginalDestination { get; init; }

    /// <summary>
    /// Hands each accepted connection to the listener whose address is its original destination (exact address and
    /// port first, then <c>0.0.0.0:port</c>), which chooses its own chain; when there is none, this listener serves it
    /// (Envoy's <c>use_original_dst</c>, Istio's virtualOutbound).
    /// </summary>
    public bool UseOriginalDestination { get; init; }

    /// <summary>
    /// Whether the listener binds its address (default). One that does not (Envoy's <c>bind_to_port: false</c>) only
    /// takes connections handed to it by a <see cref="UseOriginalDestination"/> listener.
    /// </summary>
    public bool Bind { get; init; } = true;

    /// <summary>How long choosing a chain may wait for the connection's first bytes (Envoy's default 15 s; zero: no bound).</summary>
    public TimeSpan ListenerFiltersTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>When that wait runs out: choose as for a plain-text connection (true) or close it (false, Envoy's default).</summary>
    public bool ContinueOnListenerFiltersTimeout { get; init; }
}
