using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Proxy.Async;
using Proxy.Filters;
using Proxy.Http.Http2;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// Serves one downstream HTTP/2 connection (h2c with prior knowledge, or h2 after TLS ALPN): every request stream
/// is routed like an HTTP/1.1 request and forwarded to its cluster over HTTP/1.1 (translated) or over multiplexed
/// HTTP/2 upstream connections. Proxy errors on gRPC calls are answered as gRPC statuses (trailers-only).
/// </summary>
public sealed partial class Http2ServerConnection : Http2Connection, ITrackedConnection
{
    private readonly ListenerRuntime _listener;
    private HttpRouting _routing; // the listener's routes; replaced at a stream's start when a reload or xDS update replaced them
    private readonly Func<HttpRouting?>? _currentRouting;
    private readonly ProxyMetrics _metrics;
    private readonly IPAddress? _clientAddress;
    private readonly byte[] _clientAddressText;

    /// <summary>The client's address as X-Forwarded-For carries it.</summary>
    internal ReadOnlySpan<byte> ClientAddressText => _clientAddressText;

    /// <summary>Where the client's connection was going (see <see cref="PickContext.Destination"/>); null when no cluster of the listener needs it.</summary>
    public IPEndPoint? Destination { get; init; }
    private readonly bool _downstreamTls; // the client came over TLS: X-Forwarded-Proto is https
    private string? _clientAddressString; // for spans: made once per connection, and only when a request is traced
    private readonly RequestTelemetry _telemetry;
    private readonly Func<bool>? _isDraining;
    private readonly long _idleTimeoutMs;
    private long _lastActivity = Environment.TickCount64;
    private int _shutdownStarted;
    private volatile bool _drainRequested; // Drain(): GOAWAY once the preface exchange is done (see OnStreamStarted)

    /// <param name="transport">The downstream byte stream: a socket's pipes, or TLS over them (ALPN "h2").</param>
    /// <param name="connection">Closes the downstream connection.</param>
    /// <param name="listener">The listener's runtime (routes, limits, metrics).</param>
    /// <param name="metrics">Process metrics.</param>
    /// <param name="clientAddress">The peer address, for X-Forwarded-For and hashing.</param>
    /// <param name="downstreamTls">True when <paramref name="transport"/> is TLS the proxy terminated (X-Forwarded-Proto https).</param>
    /// <param name="isDraining">Polled by the heartbeat: true starts a graceful GOAWAY.</param>
    /// <param name="telemetry">The access log and the trace exporter (none when null).</param>
    /// <param name="currentRouting">The listener's routes as the running configuration has them, so each new stream routes with the current ones (none: the routes it was made with).</param>
    public Http2ServerConnection(IDuplexPipe transport, IDisposable connection, ListenerRuntime listener, ProxyMetrics metrics, IPAddress? clientAddress, bool downstreamTls, Func<bool>? isDraining = null, RequestTelemetry? telemetry = null, Func<HttpRouting?>? currentRouting = null)
        : base(transport, connection, isServer: true, OptionsFor(listener))
    {
        _telemetry = telemetry ?? RequestTelemetry.None;
        _currentRouting = currentRouting;
        _listener = listener;
        _routing = listener.Http!;
        _metrics = metrics;
        _clientAddress = clientAddress;
        _clientAddressText = Encoding.ASCII.GetBytes(clientAddress?.ToString() ?? "unknown");
        _downstreamTls = downstreamTls;
        _isDraining = isDraining;
        _idleTimeoutMs = (long)listener.Config.IdleTimeout.TotalMilliseconds;
    }

    /// <summary>
    /// The verified identity of the mesh peer on this connection (mutual TLS), which the filters see (the mesh inbound
    /// side's authorization); null at the edge.
    /// </summary>
    public Tls.PeerIdentity? Peer { get; init; }

    /// <summary>What the listener's RBAC filters read of this connection; null when the listener has none.</summary>
    public Filters.Rbac.RbacConnection? RbacConnection { get; init; }

    /// <summary>Serves streams until the client closes, an error ends the connection, or a graceful shutdown completes.</summary>
    public Task RunAsync() => RunConnectionAsync();

    /// <summary>Heartbeat: starts the graceful GOAWAY when the proxy drains; closes a connection idle past its timeout.</summary>
    public void CheckIdle(long nowMilliseconds)
    {
        if (_isDraining?.Invoke() == true)
        {
            Drain();
            return;
        }

        if (_idleTimeoutMs > 0 && ActiveStreams == 0 && nowMilliseconds - Volatile.Read(ref _lastActivity) > _idleTimeoutMs)
        {
            _listener.Metrics.IdleTimeouts.Increment();
            BeginShutdown();
        }
    }

    /// <summary>
    /// The proxy drains: GOAWAY now, or, on a connection accepted during the drain whose preface exchange has not
    /// happened yet (a GOAWAY may not precede our SETTINGS), right after its first stream starts, which it then serves.
    /// </summary>
    public void Drain()
    {
        _drainRequested = true;
        if (PeerSettingsKnown)
        {
            BeginShutdown();
        }
    }

    private void BeginShutdown()
    {
        if (Interlocked.Exchange(ref _shutdownStarted, 1) == 0)
        {
            ShutdownAsync().AsTask().ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
    }

    private static Http2ConnectionOptions OptionsFor(ListenerRuntime listener) => new()
    {
        MaxHeaderListSize = listener.Config.Limits.MaxHeaderBytes,
        MaxHeaderBlockSize = Math.Max(listener.Config.Limits.MaxHeaderBytes, 16 * 1024) * 2,
    };

    protected override void OnDefenceTripped(Http2Defence defence) =>
        _metrics.Http2Defences.WithLabels(_listener.Name, defence.Label()).Increment();

    protected override void OnStreamStarted(Http2Stream stream)
    {
        Volatile.Write(ref _lastActivity, Environment.TickCount64);
        _ = ServeStreamAsync(stream);
        if (_drainRequested)
        {
            BeginShutdown(); // GOAWAY naming this stream as the last: it is served, no other one is
        }
    }

    /// <summary>
    /// Under the connection lock: a stream the client reset (RST_STREAM) or that ended with the connection has its
    /// upstream side cancelled, so its forwarder stops waiting for the upstream and records the request with
    /// <see cref="ResponseFlag.DownstreamDisconnect"/>. Streams that end normally, or that this side reset, do not.
    /// </summary>
    private protected override void OnStreamClosedLocked(Http2Stream stream)
    {
        if ((stream.ResetByPeer || IsClosed) && stream.ResetCode is not null && stream.Attachment is Http2StreamExchange exchange)
        {
            exchange.OnDownstreamGone();
        }
    }

    /// <summary>
    /// Switches to the current snapshot's routes for this listener, if a reload or an xDS update replaced them: a
    /// long-lived HTTP/2 connection (a gRPC channel) takes route changes at its next stream, as an HTTP/1.1
    /// connection does at its next request. Streams already started finish on the routes they began with.
    /// </summary>
    private void RefreshRouting()
    {
        if (_currentRouting?.Invoke() is { } routing)
        {
            _routing = routing;
        }
    }

    /// <summary>Routes one request stream and forwards it; every outcome ends with the stream released.</summary>
    private async FireAndForget ServeStreamAsync(Http2Stream stream)
    {
        long started = Stopwatch.GetTimestamp();
        Http2HeaderList request = stream.ReceivedHeaders;
        bool grpc = Http2Grpc.IsGrpc(request);
        AddRequestIdIfMissing(request);
        Http2StreamExchange exchange = Http2StreamExchange.Of(stream);
        RefreshRouting();
        exchange.Begin(stream, this, _routing, started, grpc, _clientAddress, _downstreamTls, Peer);
        HttpFilterChain filters = _routing.Filters;
        try
        {
            var view = new Http2RequestView(request);
            exchange.Trace.Start(_telemetry, ref view);

            // The route and the cluster are chosen before the filters run (they read the route's policies); a request
            // that matched none is answered 404 by the router, after the filters (authorization answers first).
            exchange.MatchRoute(ref view);
            RouteRuntime? action = exchange.Action;
            Cluster? cluster = exchange.Cluster;
            RouteMetrics routeMetrics = exchange.Metrics;

            // Runs on the downstream read loop until a filter awaits (no await before it here), so the stream's receive
            // state the filters read is the one its HEADERS frame left.
            if (!await filters.RunAsync(exchange).ConfigureAwait(false))
            {
                return;
            }

            if (action is null || cluster is null)
            {
                await AnswerAsync(stream, _routing.NoRoute, 404, ResponseFlag.NoRoute, grpc, started).ConfigureAwait(false);
                return;
            }

            Endpoint? endpoint = cluster.Pick(PickContextFor(cluster, request));
            if (endpoint is null)
            {
                await AnswerAsync(stream, routeMetrics, 503, ResponseFlag.NoHealthyEndpoint, grpc, started).ConfigureAwait(false);
                return;
            }

            // gRPC carries its own deadline; the tighter of it and the route timeout applies, to the whole call (RequestDeadline).
            TimeSpan? timeout = action.Timeout;
            if (grpc && Http2Grpc.TryGetTimeout(request, out TimeSpan deadline) && (timeout is null || deadline < timeout))
            {
                timeout = deadline;
            }

            // Attempts (and retries on other endpoints) keep their own endpoint accounting.
            if (endpoint.Http2Pool is not null)
            {
                await ForwardToHttp2Async(stream, endpoint, cluster, action, routeMetrics, timeout, grpc, started).ConfigureAwait(false);
            }
            else
            {
                await ForwardToHttp1Async(stream, exchange, endpoint, cluster, action, routeMetrics, timeout, grpc, started).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            // The downstream or upstream went away mid-stream; the stream is reset below.
        }
        finally
        {
            filters.Complete(exchange);
            exchange.Clear();
            Volatile.Write(ref _lastActivity, Environment.TickCount64);
            await ReleaseStreamAsync(stream).ConfigureAwait(false);
        }
    }

    private PickContext PickContextFor(Cluster cluster, Http2HeaderList request)
    {
        if (cluster.OriginalDestinations is not null)
        {
            return PickContext.None with { Destination = Destination };
        }

        if (cluster.HashHeader is { } header && request.TryGetValue(header, out ReadOnlySpan<byte> value))
        {
            return PickContext.ForKey(value);
        }

        return cluster.HashOnClientAddress && _clientAddress is not null
            ? PickContext.ForAddress(_clientAddress)
            : PickContext.None;
    }

    /// <summary>
    /// Answers with a response the proxy generates. A gRPC call gets HTTP 200 with grpc-status in a trailers-only
    /// response (<see cref="Http2Grpc.StatusFor"/>: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED on timeouts, an injected
    /// fault's status mapped); others get the status and x-proxy-error.
    /// </summary>
    internal async ValueTask AnswerAsync(Http2Stream stream, RouteMetrics metrics, int status, ResponseFlag flag, bool grpc, long started)
    {
        Http2HeaderList response = stream.Outgoing;
        response.Reset();
        response.AddStatus(grpc ? 200 : status);
        if (grpc)
        {
            response.Add("content-type"u8, "application/grpc"u8);
            response.Add("grpc-status"u8, Http2Grpc.StatusFor(flag, status));
            response.Add("grpc-message"u8, flag.HeaderValue());
        }

        response.Add("x-proxy-error"u8, flag.HeaderValue());
        if (Http2StreamExchange.Of(stream) is var answered && answered.PrepareLocalAnswer())
        {
            answered.ResponseHeadersToAdd.AddTo(response); // the route's additions, as on a relayed response
        }

        // A local answer after attempts (UF, UT) names the endpoint tried last; its bytes are the header list sent.
        Record(stream, metrics, grpc ? 200 : status, flag, grpc, started, stream.ReceivedHeaders.Size, response.Size, Http2StreamExchange.Of(stream).Endpoint,
            grpc ? RetryPolicy.ParseGrpcStatus(Http2Grpc.StatusFor(flag, status)) : AttemptOutcome.NoGrpcStatus);
        await SendHeadersAsync(stream, response, endStream: true).ConfigureAwait(false);
    }

    /// <summary>
    /// True when the client reset the stream or its connection ended: seen on the stream itself at once, and through
    /// the exchange once its upstream side was cancelled (<see cref="Http2StreamExchange.OnDownstreamGone"/>).
    /// </summary>
    internal bool ClientGone(Http2Stream stream) => stream.ResetByPeer || IsClosed || Http2StreamExchange.Of(stream).DownstreamGone;

    /// <summary>
    /// Records a request whose client reset the stream (or lost its connection) before any response reached it: status
    /// 0 and <see cref="ResponseFlag.DownstreamDisconnect"/> (Envoy's <c>DC</c>), with the last attempt's endpoint.
    /// </summary>
    internal void RecordDownstreamDisconnect(Http2Stream stream, RouteMetrics metrics, bool grpc, long started) =>
        Record(stream, metrics, 0, ResponseFlag.DownstreamDisconnect, grpc, started,
            stream.ReceivedHeaders.Size + stream.ReceivedBodyBytes, 0, Http2StreamExchange.Of(stream).Endpoint);

    /// <summary>
    /// Records a finished request: its metrics, then (when configured) an access-log line and its span, with the
    /// route, cluster and attempts the stream's <see cref="Http2StreamExchange"/> kept. <paramref name="endpoint"/>
    /// is the one whose response was relayed, null for an answer the proxy made; <paramref name="grpcStatus"/> the
    /// gRPC call's status as the client received it (trailers, or a trailers-only head), -1 when there was none.
    /// </summary>
    private void Record(Http2Stream stream, RouteMetrics metrics, int status, ResponseFlag flag, bool grpc, long started, long requestBytes, long responseBytes, Endpoint? endpoint,
        int grpcStatus = AttemptOutcome.NoGrpcStatus)
    {
        double elapsed = ElapsedMilliseconds(started);
        metrics.ForPeer(Http2StreamExchange.Of(stream).MetricsPeer).Get(status, flag, grpc, grpcStatus).Record(elapsed, requestBytes, responseBytes);
        if (_telemetry.AccessLog is null && _telemetry.Exporter is null)
        {
            return;
        }

        Http2StreamExchange exchange = Http2StreamExchange.Of(stream);
        Http2HeaderList request = stream.ReceivedHeaders;
        var view = new Http2RequestView(request);
        request.TryGetValue("x-request-id"u8, out ReadOnlySpan<byte> requestId); // always there, see AddRequestIdIfMissing
        var finished = new FinishedRequest
        {
            Protocol = "HTTP/2",
            Method = request.Method,
            Authority = view.Host,
            Path = view.Path,
            RequestId = requestId,
            Status = status,
            Flag = flag,
            ElapsedMs = elapsed,
            BytesReceived = requestBytes,
            BytesSent = responseBytes,
            Attempts = exchange.Attempts,
            Listener = _listener.Name,
            Route = exchange.Route?.Name,
            Cluster = exchange.Cluster?.Name,
            Endpoint = endpoint,
            DownstreamPeer = exchange.DownstreamPrincipal,
            UpstreamPeer = exchange.UpstreamPrincipal,
        };
        exchange.Trace.Publish(_telemetry, finished, _clientAddress, ref _clientAddressString);
    }

    /// <summary>
    /// Whether the upstream gets the proxy's span as its parent (<see cref="RequestTrace.PropagatesOwnSpan"/>): only
    /// when spans are exported. Otherwise the client's trace context crosses untouched.
    /// </summary>
    private bool ReplacesTraceContext => RequestTrace.PropagatesOwnSpan(_telemetry);

    /// <summary>
    /// Adds the trace context of the proxy's span to an HTTP/2 upstream request, in place of the client's (see
    /// <see cref="IsReplacedRequestField"/>): traceparent, and b3 as well when the client spoke B3, as the HTTP/1.1
    /// forwarder does. Nothing when <see cref="ReplacesTraceContext"/> is false.
    /// </summary>
    private void AddTraceFields(Http2HeaderList target, Http2Stream stream)
    {
        if (!ReplacesTraceContext)
        {
            return;
        }

        ref readonly RequestTrace trace = ref Http2StreamExchange.Of(stream).Trace;
        Span<byte> value = stackalloc byte[RequestTrace.B3Length];
        target.Add("traceparent"u8, value[..trace.FormatTraceParent(value)]);
        if (trace.FromB3)
        {
            target.Add("b3"u8, value[..trace.FormatB3(value)]);
        }
    }

    /// <summary>
    /// Adds the fields the proxy appends to every forwarded request: X-Forwarded-For, -Proto and -Host
    /// (<paramref name="authority"/>, :authority or Host; see <see cref="Http2ForwardedFields"/>). X-Request-Id is
    /// already in the request, see <see cref="AddRequestIdIfMissing"/>.
    /// </summary>
    private void AddProxyFields(Http2HeaderList target, Http2HeaderList request, ReadOnlySpan<byte> authority) =>
        Http2ForwardedFields.Add(target, request, _clientAddressText, ForwardedProto, authority);

    /// <summary>X-Forwarded-Proto: the scheme of the client's connection (<see cref="ForwardedScheme.OfDownstream"/>).</summary>
    private ReadOnlySpan<byte> ForwardedProto => ForwardedScheme.OfDownstream(_downstreamTls);

    /// <summary>
    /// Gives a request that came without an x-request-id a new one, added to its received fields as if the client had
    /// sent it: made once per stream, it then crosses with every attempt, to an HTTP/1.1 or HTTP/2 upstream alike, so
    /// a retried request keeps one id. The stream's list is reset when the pooled stream starts its next request.
    /// The field counts in the list's size (what the request-bytes metric reads), as it would had the client sent it.
    /// </summary>
    private static void AddRequestIdIfMissing(Http2HeaderList request)
    {
        if (!request.TryGetValue("x-request-id"u8, out _))
        {
            Span<byte> id = stackalloc byte[RequestIds.Length];
            RequestIds.Write(id);
            request.Add("x-request-id"u8, id);
        }
    }

    /// <summary>
    /// True for the request fields the proxy replaces or that do not cross to the upstream: X-Forwarded-For and -Proto,
    /// X-Forwarded-Host when the request has a host to put in its place (<paramref name="hasHost"/>; without one the
    /// client's crosses, as <see cref="Http.Http1.Http1HeadWriter"/> does), and, when the proxy propagates its own
    /// span (<paramref name="replaceTrace"/>), the client's traceparent and b3, which name the client's span where the
    /// upstream must see the proxy's.
    /// </summary>
    private static bool IsReplacedRequestField(ReadOnlySpan<byte> name, bool hasHost, bool replaceTrace) => name.Length switch
    {
        2 => replaceTrace && name.SequenceEqual("b3"u8),
        11 => replaceTrace && name.SequenceEqual("traceparent"u8),
        15 => name.SequenceEqual("x-forwarded-for"u8),
        16 => hasHost && name.SequenceEqual("x-forwarded-host"u8),
        17 => name.SequenceEqual("x-forwarded-proto"u8),
        _ => false,
    };

    private static double ElapsedMilliseconds(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
}
