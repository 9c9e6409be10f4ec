using System.Diagnostics;
using Proxy.Http;
using Proxy.Observability;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    private readonly RequestTelemetry _telemetry;
    private readonly byte[] _traceLines = new byte[160];
    private int _traceLinesLength;
    private RequestTrace _trace;
    private int _attempts;
    private Endpoint? _triedEndpoint;

    /// <summary>
    /// Sets up this request's span (<see cref="RequestTrace.Start"/>) and the header lines that carry it upstream.
    /// </summary>
    private void StartTrace()
    {
        _attempts = 0;
        _triedEndpoint = null;
        var view = new Http1RequestView(_request);
        _trace.Start(_telemetry, ref view);
        if (!RequestTrace.PropagatesOwnSpan(_telemetry))
        {
            _traceLinesLength = 0; // the client's trace context crosses untouched
            return;
        }

        // traceparent always; b3 as well when the client spoke B3, so either kind of service downstream follows.
        Span<byte> lines = _traceLines;
        "traceparent: "u8.CopyTo(lines);
        var length = 13;
        length += _trace.FormatTraceParent(lines[length..]);
        "\r\n"u8.CopyTo(lines[length..]);
        length += 2;
        if (_trace.FromB3)
        {
            "b3: "u8.CopyTo(lines[length..]);
            length += 4;
            length += _trace.FormatB3(lines[length..]);
            "\r\n"u8.CopyTo(lines[length..]);
            length += 2;
        }

        _traceLinesLength = length;
    }

    /// <summary>Counts an attempt on <paramref name="endpoint"/>, which the access log names when the proxy answers for it (UF, UT).</summary>
    private void CountAttempt(Endpoint endpoint)
    {
        _attempts++;
        _triedEndpoint = endpoint;
    }

    private ReadOnlySpan<byte> TraceLines => _traceLines.AsSpan(0, _traceLinesLength);

    /// <summary>Records the finished request: metrics, then an access-log line and a span when configured.</summary>
    private void Record(RouteMetrics metrics, int status, ResponseFlag flag, long started, long requestBytes, long responseBytes, string? route, string? cluster, Endpoint? endpoint)
    {
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        metrics.ForPeer(_exchange.MetricsPeer).Get(status, flag).Record(elapsed, requestBytes, responseBytes);
        if (_telemetry.AccessLog is null && _telemetry.Exporter is null)
        {
            return;
        }

        var finished = new FinishedRequest
        {
            Protocol = _request.Version == Http.Http1.Http1Version.Http11 ? "HTTP/1.1" : "HTTP/1.0",
            Method = _request.MethodBytes,
            Authority = _request.Host,
            Path = _request.Path,
            RequestId = _request.TryGetValue(HeaderNames.XRequestId, out var requestId) ? requestId : GeneratedRequestId,
            Status = status,
            Flag = flag,
            ElapsedMs = elapsed,
            BytesReceived = requestBytes,
            BytesSent = responseBytes,
            Attempts = _attempts,
            Listener = _listener.Name,
            Route = route,
            Cluster = cluster,
            Endpoint = endpoint ?? _triedEndpoint, // a local answer after attempts (UF, UT) names the endpoint tried last
            DownstreamPeer = _exchange.DownstreamPrincipal,
            UpstreamPeer = _exchange.UpstreamPrincipal,
        };
        _trace.Publish(_telemetry, finished, _clientAddress, ref _clientAddressString);
    }
}
