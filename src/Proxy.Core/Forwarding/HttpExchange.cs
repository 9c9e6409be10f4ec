using System.Buffers;
using System.Net;
using Proxy.Headers;
using Proxy.Observability;
using Proxy.Rewrites;
using Proxy.Routing;
using Proxy.Runtime;
using Proxy.Tls;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// One request and its response as the request path sees it, whatever the codecs: the request head as a view over
/// the downstream codec's own storage (no copy to a common format), the facts of the client's connection, the route
/// and cluster the request took, and what the filter chain adds to the upstream request. The downstream adapters
/// implement it: <see cref="Http1Exchange"/> (one per HTTP/1.1 connection, reused by each of its requests) and
/// <see cref="Http2StreamExchange"/> (one per pooled HTTP/2 stream object). So a request allocates none of it.
/// </summary>
/// <remarks>
/// Filters (<see cref="Filters.IHttpFilter"/>) read and act on this type only: they know nothing of codecs, and one
/// filter serves HTTP/1.1 and HTTP/2 clients, and both kinds of upstream, alike (Envoy's split of codec,
/// http_connection_manager and router).
/// </remarks>
public abstract class HttpExchange : IRouteRequest, IFieldLookup
{
    /// <summary>The authority: Host (HTTP/1.1) or :authority (HTTP/2, host when absent). Empty when absent.</summary>
    public abstract ReadOnlySpan<byte> Host { get; }

    /// <summary>The path of the request target, without query or fragment, not decoded.</summary>
    public abstract ReadOnlySpan<byte> Path { get; }

    /// <summary>The request target as sent: origin-form path and query (HTTP/1.1), or :path (HTTP/2).</summary>
    public abstract ReadOnlySpan<byte> Target { get; }

    /// <summary>The query of <see cref="Target"/>: after its first '?', without a fragment, not decoded; empty when none.</summary>
    public ReadOnlySpan<byte> Query => RequestTargetQuery.Of(Target);

    /// <summary>The method token ("GET").</summary>
    public abstract ReadOnlySpan<byte> Method { get; }

    /// <summary>Finds a request field by its lowercase name; the first one when repeated (see <see cref="IRouteRequest"/>).</summary>
    public abstract bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value);

    /// <summary>True when the request has (or may have) a body, as its head tells.</summary>
    public abstract bool HasBody { get; }

    /// <summary>True for a gRPC call: proxy answers become gRPC statuses.</summary>
    public bool IsGrpc { get; protected set; }

    /// <summary>"HTTP/1.1", "HTTP/1.0" or "HTTP/2": the protocol the client spoke.</summary>
    public abstract string Protocol { get; }

    /// <summary>The client's address, or null when unknown.</summary>
    public IPAddress? ClientAddress { get; protected set; }

    /// <summary>The verified identity of a mesh peer (mutual TLS), or null.</summary>
    public PeerIdentity? Peer { get; internal set; }

    /// <summary>What RBAC reads of the client's connection (addresses, SNI, certificate names); null where no RBAC runs.</summary>
    public Filters.Rbac.RbacConnection? RbacConnection { get; internal set; }

    /// <summary>True when the client's connection is TLS the proxy terminated.</summary>
    public bool DownstreamTls { get; protected set; }

    /// <summary>When the request began (<see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public long Started { get; protected set; }

    /// <summary>The listener's compiled routes and filter chain that serve this request.</summary>
    public HttpRouting Routing { get; protected set; } = null!;

    /// <summary>The matched route, or null when none matched (the router answers 404).</summary>
    public Route? Route { get; private set; }

    /// <summary>The matched route's runtime (policies, clusters), or null.</summary>
    public RouteRuntime? Action { get; private set; }

    /// <summary>The cluster the route chose (a weighted split is decided once per request), or null.</summary>
    public Cluster? Cluster { get; private set; }

    /// <summary>The metrics of the route and cluster, or of requests that matched no route.</summary>
    public RouteMetrics Metrics { get; private set; } = null!;

    /// <summary>How many filters of the chain let the request through; those are told when it completes.</summary>
    internal int FiltersPassed;

    /// <summary>Fields the filter chain and the route add to the upstream request (every attempt, every kind of upstream).</summary>
    public FieldAdditions RequestHeadersToAdd { get; } = new();

    /// <summary>Names of the client's fields the route removes or replaces, left out of the upstream request; null for none.</summary>
    public FieldNameSet? RequestFieldsRemoved { get; private set; }

    /// <summary>The route's changes to the upstream response's fields; null for none (the response is relayed as it came).</summary>
    public FieldChanges? ResponseChanges { get; private set; }

    /// <summary>Fields added to the response, rendered by <see cref="PrepareResponse"/> when the response head arrives.</summary>
    public FieldAdditions ResponseHeadersToAdd { get; } = new();

    /// <summary>The client's address as text ("203.0.113.7"), as X-Forwarded-For carries it.</summary>
    public abstract ReadOnlySpan<byte> ClientAddressText { get; }

    /// <summary>The request's x-request-id: the client's, or the one the proxy made for it.</summary>
    public abstract ReadOnlySpan<byte> RequestId { get; }

    /// <summary>The route's path and host rewrite, as the upstream request carries it (<see cref="PrepareForward"/>).</summary>
    public UpstreamTarget UpstreamTarget { get; } = new();

    /// <inheritdoc/>
    public bool Contains(ReadOnlySpan<byte> lowerName) => TryGetHeader(lowerName, out _);

    /// <inheritdoc/>
    public bool TryGetValue(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value) => TryGetHeader(lowerName, out value);

    /// <summary>
    /// The peer on the other side of this request, for the metrics (<see cref="RouteMetrics.ForPeer"/>): read from the
    /// request by a server sidecar, from the response by a client sidecar (<see cref="HttpRouting.Peers"/>); null elsewhere.
    /// </summary>
    public PeerLabels? MetricsPeer { get; private set; }

    /// <summary>The client's SPIFFE ID when its certificate proved one (inbound mesh traffic), for logs and spans.</summary>
    internal string? DownstreamPrincipal => Peer?.Id?.Value;

    /// <summary>
    /// The server's SPIFFE ID for logs and spans, at a client sidecar: the identity the connection to it required, as
    /// resolved with the response (<see cref="PrepareResponse"/>); null before a response or off the mesh.
    /// </summary>
    internal string? UpstreamPrincipal =>
        Routing.Peers is { FromRequest: false } && MetricsPeer?.Workload.Principal is { } principal && principal != WorkloadLabels.UnknownValue ? principal : null;

    /// <summary>
    /// Answers the request with a response the proxy makes (status and flag; a gRPC call gets its gRPC status), and
    /// records it. Filters use it to answer locally.
    /// </summary>
    public abstract ValueTask AnswerAsync(int status, ResponseFlag flag);

    /// <summary>
    /// Answers the request with a route's redirect or direct response (<see cref="LocalResponse"/>: its status, fields
    /// and body as configured, the Location built from this request; no body to HEAD), and records it with no response
    /// flag, as Envoy does. A gRPC call gets it as it is: it is explicit configuration, not an error.
    /// </summary>
    public abstract ValueTask AnswerAsync(LocalResponse response);

    /// <summary>True when the client has left (reset its stream, or closed its connection) during the request.</summary>
    public abstract bool ClientGone { get; }

    /// <summary>Records a request whose client left before any answer (status 0, <see cref="ResponseFlag.DownstreamDisconnect"/>).</summary>
    public abstract void RecordClientGone();

    /// <summary>
    /// Writes this request as an HTTP/1.1 head without a body, with <c>Connection: close</c> and the proxy's fields,
    /// as an HTTP/1.1 upstream would receive it: the copy a mirror sends.
    /// </summary>
    public abstract void WriteHttp1CopyHead(IBufferWriter<byte> output);

    /// <summary>
    /// Writes this request as the HTTP/2 fields of a bodiless copy, with the proxy's fields, as an HTTP/2 upstream
    /// would receive it (<paramref name="scheme"/>: that upstream connection's): the copy a mirror sends to an HTTP/2
    /// cluster.
    /// </summary>
    public abstract void WriteHttp2CopyHeaders(Http.Http2.Http2HeaderList target, ReadOnlySpan<byte> scheme);

    /// <summary>The exact size the request head takes, for a copy's buffer.</summary>
    public abstract int HeadSizeHint { get; }

    /// <summary>
    /// Matches the request against the routing's table and chooses the route's cluster (a weighted split is decided
    /// here, once per request), before the filter chain runs; no match leaves the route null for the router's 404.
    /// </summary>
    internal void MatchRoute<TRequest>(scoped ref TRequest view)
        where TRequest : IRouteRequest, allows ref struct
    {
        var routing = Routing;
        if (routing.Table.Match(ref view) is not { } route)
        {
            SetRoute(null, null, null, routing.NoRoute);
            return;
        }

        var action = routing.Actions[route.Index];
        if (action.Clusters.Length == 0)
        {
            SetRoute(route, action, null, action.Metrics[0]); // a route that answers by itself (redirect, direct response)
            ResponseChanges = action.ResponseChanges; // its answer carries the route's additions (PrepareLocalAnswer)
            return;
        }

        var clusterIndex = route.Clusters.Count == 1 ? 0 : route.PickClusterIndex((uint)Random.Shared.Next());
        SetRoute(route, action, action.Clusters[clusterIndex], action.Metrics[clusterIndex]);
        if (routing.Peers is { FromRequest: true } peers)
        {
            var request = this;
            MetricsPeer = peers.Resolve(ref request, Peer);
        }

        PrepareForward();
    }

    /// <summary>Sets the route the request matched and the cluster chosen for it, before the filter chain runs.</summary>
    internal void SetRoute(Route? route, RouteRuntime? action, Cluster? cluster, RouteMetrics metrics)
    {
        Route = route;
        Action = action;
        Cluster = cluster;
        Metrics = metrics;
    }

    /// <summary>
    /// Once the route is known: its field changes rendered for this request, its path rewritten (the original kept in
    /// x-envoy-original-path), its host rewrite noted. Every kind of upstream writes the request from what this leaves
    /// (Envoy's router: finalizeRequestHeaders), and so does a mirror, whose copy is the request as forwarded.
    /// </summary>
    private void PrepareForward()
    {
        if (Action is not { } action)
        {
            return;
        }

        if (action.RequestChanges is { } changes)
        {
            RequestFieldsRemoved = changes.Removed;
            var self = this;
            changes.AddTo(RequestHeadersToAdd, this, null, ref self);
        }

        ResponseChanges = action.ResponseChanges;
        if (action.Rewrite is { } rewrite)
        {
            if (rewrite.RewritesPath)
            {
                RequestHeadersToAdd.Add(RequestRewrite.OriginalPathField, Target);
            }

            UpstreamTarget.Apply(rewrite, Path, Target);
        }
    }

    /// <summary>
    /// Renders the route's additions to a response whose head has arrived from <paramref name="endpoint"/>; false when
    /// the route changes no response field (the head is relayed as it came).
    /// </summary>
    internal bool PrepareResponse<TMessage>(scoped ref TMessage response, Endpoint? endpoint)
        where TMessage : IFieldLookup, allows ref struct
    {
        if (Routing.Peers is { FromRequest: false } peers)
        {
            MetricsPeer = peers.Resolve(ref response, Peer);
        }

        if (ResponseChanges is not { } changes)
        {
            return false;
        }

        ResponseHeadersToAdd.Clear();
        changes.AddTo(ResponseHeadersToAdd, this, endpoint, ref response);
        return true;
    }

    /// <summary>
    /// Renders the route's (and listener's) response additions for an answer the proxy makes itself once a route
    /// matched (a redirect, a direct response, 502/503/504 after trying), as Envoy's router applies
    /// <c>response_headers_to_add</c> to its local replies; false when there are none. Removals do not apply: the
    /// proxy's own answer has no upstream fields to remove.
    /// </summary>
    internal bool PrepareLocalAnswer()
    {
        if (ResponseChanges is not { } changes)
        {
            return false;
        }

        ResponseHeadersToAdd.Clear();
        var none = default(NoFields);
        changes.AddTo(ResponseHeadersToAdd, this, null, ref none);
        return ResponseHeadersToAdd.Count > 0;
    }

    /// <summary>Forgets the finished request's route and additions, so nothing of it lives on in a reused object.</summary>
    protected void ClearRequest()
    {
        MetricsPeer = null;
        Route = null;
        Action = null;
        Cluster = null;
        FiltersPassed = 0;
        RequestHeadersToAdd.Clear();
        RequestFieldsRemoved = null;
        ResponseChanges = null;
        ResponseHeadersToAdd.Clear();
        UpstreamTarget.Clear();
    }
}
