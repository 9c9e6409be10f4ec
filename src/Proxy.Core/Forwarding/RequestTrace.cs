using System.Net;
using Proxy.Observability;
using Proxy.Observability.Tracing;
using Proxy.Routing;

namespace Proxy.Forwarding;

/// <summary>
/// The proxy's server span for one HTTP request, whatever protocol the client spoke: started as a child of the
/// client's W3C or B3 context (or as a new root), carried upstream as <c>traceparent</c> (and <c>b3</c> when the
/// client spoke B3), and closed with the request's access-log entry and exported span. A plain struct kept in
/// the connection (HTTP/1.1) or in the stream's per-request state (HTTP/2), so a request allocates nothing.
/// </summary>
internal struct RequestTrace
{
    /// <summary>Room for the <c>b3</c> value (<see cref="B3Propagation.MaxSingleLength"/>).</summary>
    public const int B3Length = B3Propagation.MaxSingleLength;

    /// <summary>The proxy's span.</summary>
    public SpanContext Span;

    /// <summary>The client's span, invalid for a new root.</summary>
    public SpanId ParentSpan;

    /// <summary>The client sent B3 (single or multi) rather than W3C: the upstream gets <c>b3</c> as well.</summary>
    public bool FromB3;

    /// <summary>Wall-clock start in Unix nanoseconds; 0 when neither an access log nor an exporter is configured.</summary>
    public long StartUnixNanos;

    /// <summary>
    /// Starts the span from the request's fields: <c>traceparent</c> first, then <c>b3</c>, then the
    /// <c>X-B3-*</c> fields; without a valid context, a new trace sampled by <c>tracing.sample_percent</c>.
    /// </summary>
    public void Start<TRequest>(RequestTelemetry telemetry, scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        StartUnixNanos = telemetry.AccessLog is not null || telemetry.Exporter is not null ? TraceSpan.ToUnixNanos(DateTime.UtcNow) : 0;
        FromB3 = false;
        SpanContext parent = default;
        if (request.TryGetHeader(W3CTraceContext.TraceParentHeader, out ReadOnlySpan<byte> traceParent) && W3CTraceContext.TryParseTraceParent(traceParent, out parent))
        {
        }
        else if (request.TryGetHeader(B3Propagation.SingleHeader, out ReadOnlySpan<byte> b3) && B3Propagation.TryParseSingle(b3, out parent, out _) && parent.IsValid)
        {
            FromB3 = true;
        }
        else if (request.TryGetHeader(B3Propagation.TraceIdHeader, out ReadOnlySpan<byte> traceId) && request.TryGetHeader(B3Propagation.SpanIdHeader, out ReadOnlySpan<byte> spanId))
        {
            request.TryGetHeader(B3Propagation.SampledHeader, out ReadOnlySpan<byte> sampled);
            request.TryGetHeader(B3Propagation.FlagsHeader, out ReadOnlySpan<byte> flags);
            FromB3 = B3Propagation.TryParseMulti(traceId, spanId, sampled, flags, out parent, out _) && parent.IsValid;
        }

        if (parent.IsValid)
        {
            Span = telemetry.Spans.NewChild(parent);
            ParentSpan = parent.SpanId;
        }
        else
        {
            Span = telemetry.Spans.NewRoot(telemetry.SampleNewTrace());
            ParentSpan = default;
        }
    }

    /// <summary>
    /// Whether the upstream gets the proxy's span as its parent (<c>traceparent</c>, and <c>b3</c> for a B3 client) in
    /// place of the client's context: only when spans are exported (<c>tracing.collector</c>). A span that goes
    /// nowhere would leave the app's spans pointing at a parent no backend ever receives, so without an exporter the
    /// client's trace context crosses untouched, as Envoy and Linkerd leave it when tracing is off.
    /// </summary>
    public static bool PropagatesOwnSpan(RequestTelemetry telemetry) => telemetry.Exporter is not null;

    /// <summary>Writes the <c>traceparent</c> value naming the proxy's span (55 bytes); returns the length.</summary>
    public readonly int FormatTraceParent(Span<byte> destination) => W3CTraceContext.FormatTraceParent(Span, destination);

    /// <summary>Writes the <c>b3</c> value naming the proxy's span and the client's as parent; returns the length.</summary>
    public readonly int FormatB3(Span<byte> destination) => B3Propagation.FormatSingle(Span, ParentSpan, destination);

    /// <summary>
    /// Publishes the finished request: an access-log entry and, when sampled, a span (both rented from their
    /// preallocated pools, skipped and counted as dropped when the pools are empty). The client address is
    /// formatted once per connection into <paramref name="clientText"/>, and only for a traced request.
    /// </summary>
    public readonly void Publish(RequestTelemetry telemetry, scoped in FinishedRequest request, IPAddress? client, ref string? clientText)
    {
        if (telemetry.AccessLog is { } log && log.TryRent() is { } entry)
        {
            entry.Kind = Observability.AccessLog.AccessLogKind.Http;
            entry.StartTime = new DateTime(DateTime.UnixEpoch.Ticks + StartUnixNanos / 100, DateTimeKind.Utc);
            entry.DurationMs = request.ElapsedMs;
            entry.Protocol = request.Protocol;
            entry.Status = request.Status;
            entry.BytesReceived = request.BytesReceived;
            entry.BytesSent = request.BytesSent;
            entry.UpstreamEndpoint = request.Endpoint?.Authority;
            entry.ResponseFlags = request.Flag.ShortCode();
            entry.Attempts = request.Attempts;
            entry.Listener = request.Listener;
            entry.Route = request.Route;
            entry.Cluster = request.Cluster;
            entry.PeerIdentity = request.DownstreamPeer;
            entry.UpstreamPeerIdentity = request.UpstreamPeer;
            entry.TraceIdHigh = Span.TraceId.High;
            entry.TraceIdLow = Span.TraceId.Low;
            entry.SetMethod(request.Method);
            entry.SetAuthority(request.Authority);
            entry.SetPath(request.Path);
            entry.SetRequestId(request.RequestId);
            log.Publish(entry);
        }

        if (Span.Sampled && telemetry.Exporter is { } exporter && exporter.TryRent() is { } span)
        {
            span.Name = request.Route ?? "no-route";
            span.Kind = SpanKind.Server;
            span.Context = Span;
            span.ParentSpanId = ParentSpan;
            span.StartUnixNanos = StartUnixNanos;
            span.EndUnixNanos = StartUnixNanos + (long)(request.ElapsedMs * 1_000_000);
            span.SetMethod(request.Method);
            span.Route = request.Route;
            span.StatusCode = request.Status;
            span.PeerAddress = clientText ??= client?.ToString();
            span.UpstreamEndpoint = request.Endpoint?.Authority;
            span.Cluster = request.Cluster;
            span.PeerIdentity = request.DownstreamPeer;
            span.UpstreamPeerIdentity = request.UpstreamPeer;
            span.ResponseFlags = request.Flag.ShortCode();
            span.IsError = request.Status >= 500 || request.Flag != ResponseFlag.None;
            exporter.Publish(span);
        }
    }
}
