using System.Diagnostics;
using Proxy.Http;
using Proxy.Observability;
using Proxy.Observability.Tracing;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    private readonly RequestTelemetry _telemetry;
    private readonly byte[] _traceLines = new byte[160];
    private int _traceLinesLength;
    private SpanContext _span;
    private SpanId _parentSpan;
    private long _startUnixNanos;
    private int _attempts;

    /// <summary>
    /// Sets up this request's span: a child of the client's W3C traceparent or B3 context, or a new
    /// root (sampled by <c>tracing.sample_percent</c>), and the header lines that carry it upstream.
    /// </summary>
    private void StartTrace()
    {
        _attempts = 0;
        _startUnixNanos = _telemetry.AccessLog is not null || _telemetry.Exporter is not null ? TraceSpan.ToUnixNanos(DateTime.UtcNow) : 0;
        var fromB3 = false;
        SpanContext parent = default;
        if (_request.TryGetValue(W3CTraceContext.TraceParentHeader, out var traceParent) && W3CTraceContext.TryParseTraceParent(traceParent, out parent))
        {
        }
        else if (_request.TryGetValue("b3"u8, out var b3) && B3Propagation.TryParseSingle(b3, out parent, out _) && parent.IsValid)
        {
            fromB3 = true;
        }
        else if (_request.TryGetValue("x-b3-traceid"u8, out var traceId) && _request.TryGetValue("x-b3-spanid"u8, out var spanId))
        {
            _request.TryGetValue("x-b3-sampled"u8, out var sampled);
            _request.TryGetValue("x-b3-flags"u8, out var flags);
            fromB3 = B3Propagation.TryParseMulti(traceId, spanId, sampled, flags, out parent, out _) && parent.IsValid;
        }

        if (parent.IsValid)
        {
            _span = _telemetry.Spans.NewChild(parent);
            _parentSpan = parent.SpanId;
        }
        else
        {
            _span = _telemetry.Spans.NewRoot(_telemetry.SampleNewTrace());
            _parentSpan = default;
        }

        // traceparent always; b3 as well when the client spoke B3, so either kind of service downstream follows.
        Span<byte> lines = _traceLines;
        "traceparent: "u8.CopyTo(lines);
        var length = 13;
        length += W3CTraceContext.FormatTraceParent(_span, lines[length..]);
        "\r\n"u8.CopyTo(lines[length..]);
        length += 2;
        if (fromB3)
        {
            "b3: "u8.CopyTo(lines[length..]);
            length += 4;
            length += B3Propagation.FormatSingle(_span, _parentSpan, lines[length..]);
            "\r\n"u8.CopyTo(lines[length..]);
            length += 2;
        }

        _traceLinesLength = length;
    }

    private ReadOnlySpan<byte> TraceLines => _traceLines.AsSpan(0, _traceLinesLength);

    /// <summary>Records the finished request: metrics, then an access-log line and a span when configured.</summary>
    private void Record(RouteMetrics metrics, int status, ResponseFlag flag, long started, long requestBytes, long responseBytes, string? route, string? cluster, Endpoint? endpoint)
    {
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        metrics.Get(status, flag).Record(elapsed, requestBytes, responseBytes);

        if (_telemetry.AccessLog is { } log && log.TryRent() is { } entry)
        {
            entry.Kind = Observability.AccessLog.AccessLogKind.Http;
            entry.StartTime = new DateTime(DateTime.UnixEpoch.Ticks + _startUnixNanos / 100, DateTimeKind.Utc);
            entry.DurationMs = elapsed;
            entry.Protocol = _request.Version == Http.Http1.Http1Version.Http11 ? "HTTP/1.1" : "HTTP/1.0";
            entry.Status = status;
            entry.BytesReceived = requestBytes;
            entry.BytesSent = responseBytes;
            entry.UpstreamEndpoint = endpoint?.Authority;
            entry.ResponseFlags = flag.ShortCode();
            entry.Attempts = _attempts;
            entry.Listener = _listener.Name;
            entry.Route = route;
            entry.Cluster = cluster;
            entry.TraceIdHigh = _span.TraceId.High;
            entry.TraceIdLow = _span.TraceId.Low;
            entry.SetMethod(_request.MethodBytes);
            entry.SetAuthority(_request.Host);
            entry.SetPath(_request.Path);
            entry.SetRequestId(_request.TryGetValue(HeaderNames.XRequestId, out var requestId) ? requestId : GeneratedRequestId);

            log.Publish(entry);
        }

        if (_span.Sampled && _telemetry.Exporter is { } exporter && exporter.TryRent() is { } span)
        {
            span.Name = route ?? "no-route";
            span.Kind = SpanKind.Server;
            span.Context = _span;
            span.ParentSpanId = _parentSpan;
            span.StartUnixNanos = _startUnixNanos;
            span.EndUnixNanos = _startUnixNanos + (long)(elapsed * 1_000_000);
            span.SetMethod(_request.MethodBytes);
            span.Route = route;
            span.StatusCode = status;
            span.PeerAddress = _clientAddressString ??= _clientAddress?.ToString(); // once per connection, and only when traced
            span.UpstreamEndpoint = endpoint?.Authority;
            span.Cluster = cluster;
            span.ResponseFlags = flag.ShortCode();
            span.IsError = status >= 500 || flag != ResponseFlag.None;
            exporter.Publish(span);
        }
    }
}
