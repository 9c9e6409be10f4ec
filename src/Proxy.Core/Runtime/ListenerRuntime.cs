using Proxy.Configuration;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Routing;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>The runtime form of one listener in a snapshot: what a new connection on it is served with.</summary>
public sealed class ListenerRuntime
{
    public ListenerRuntime(ListenerConfig config, Cluster? cluster, ListenerMetrics metrics, HttpRouting? http)
    {
        Config = config;
        Cluster = cluster;
        Metrics = metrics;
        Http = http;
    }

    public string Name => Config.Name;

    public ListenerConfig Config { get; }

    /// <summary>The cluster of a tcp listener.</summary>
    public Cluster? Cluster { get; }

    public ListenerMetrics Metrics { get; }

    /// <summary>Routes and limits of an http listener.</summary>
    public HttpRouting? Http { get; }

    /// <summary>TLS termination (certificates by SNI, client verification); null for plain text.</summary>
    public Tls.TlsServerPolicy? Tls { get; init; }

    /// <summary>
    /// The filter chains a connection is handed to, chosen per connection; null when this listener serves every
    /// connection itself (every file listener).
    /// </summary>
    public FilterChainSelector? Chains { get; init; }

    /// <summary>
    /// Whether a cluster this listener sends to is an original-destination one, so each connection's destination must
    /// be read when it is accepted (a syscall ordinary listeners are spared).
    /// </summary>
    public bool SendsToOriginalDestination => _sendsToOriginalDestination ??= Cluster?.OriginalDestinations is not null
        || (Http?.Actions ?? []).Any(static action => action.Clusters.Any(static c => c.OriginalDestinations is not null) || action.MirrorCluster?.OriginalDestinations is not null);

    private bool? _sendsToOriginalDestination;
}

/// <summary>The compiled HTTP side of a listener: route table, actions per route, parser limits.</summary>
public sealed class HttpRouting(RouteTable table, RouteRuntime[] actions, Http1Limits limits, RouteMetrics noRoute)
{
    public RouteTable Table { get; } = table;

    /// <summary>Indexed by <see cref="Route.Index"/>.</summary>
    public RouteRuntime[] Actions { get; } = actions;

    public Http1Limits Limits { get; } = limits;

    /// <summary>Metrics of requests that matched no route (or failed before routing).</summary>
    public RouteMetrics NoRoute { get; } = noRoute;

    /// <summary>The listener-wide rate limit, if configured.</summary>
    public Resilience.TokenBucket? RateLimit { get; init; }

    public Observability.Metrics.Counter RateLimited { get; init; } = new();

    /// <summary>The listener's HTTP RBAC policy sets, in order (<see cref="Filters.Rbac.RbacFilter"/>).</summary>
    public IReadOnlyList<Filters.Rbac.RbacEngine> Rbac { get; init; } = [];

    /// <summary>Requests the listener's RBAC refused.</summary>
    public Observability.Metrics.Counter RbacDenied { get; init; } = new();

    /// <summary>The listener-wide fault, for requests whose route has none; null for none.</summary>
    public Resilience.FaultInjector? Fault { get; init; }

    /// <summary>The header conditions of <see cref="Fault"/>.</summary>
    internal HeaderMatcher[] FaultHeaders { get; init; } = [];

    /// <summary>The listener's HTTP filters, run between routing and the router for every request.</summary>
    public Filters.HttpFilterChain Filters { get; internal set; } = Proxy.Filters.HttpFilterChain.Empty;

    /// <summary>In a sidecar: where each request's peer is read from for the metrics (Istio's metadata exchange); null elsewhere.</summary>
    public Observability.PeerExchange? Peers { get; internal set; }

    /// <summary>
    /// The same routing with <paramref name="actions"/> (the same routes, some bound to recompiled clusters), for
    /// <see cref="ListenerRebinder"/>; the caller builds <see cref="Filters"/> for it. Copies every other property:
    /// a property added above must be copied here too.
    /// </summary>
    internal HttpRouting WithActions(RouteRuntime[] actions) =>
        new(Table, actions, Limits, NoRoute)
        {
            RateLimit = RateLimit,
            RateLimited = RateLimited,
            Rbac = Rbac,
            RbacDenied = RbacDenied,
            Fault = Fault,
            FaultHeaders = FaultHeaders,
            Peers = Peers,
        };
}
