using Proxy.Configuration;
using Proxy.LoadBalancing;
using Proxy.Observability.AccessLog;
using Proxy.Observability.Tracing;

namespace Proxy.Observability;

/// <summary>
/// The process's access log and trace exporter, built from the <c>log.access_log</c> and
/// <c>tracing</c> settings. Both write off the request path through bounded queues that drop and
/// count when full. Changing either setting takes effect on the next start (a reload keeps them).
/// </summary>
public sealed class RequestTelemetry : IAsyncDisposable
{
    private readonly double _samplePercent;

    private RequestTelemetry(AccessLogWriter? accessLog, OtlpExporter? exporter, double samplePercent)
    {
        AccessLog = accessLog;
        Exporter = exporter;
        _samplePercent = samplePercent;
    }

    public static RequestTelemetry None { get; } = new(null, null, 0);

    public AccessLogWriter? AccessLog { get; }

    public OtlpExporter? Exporter { get; }

    public SpanContextGenerator Spans { get; } = new();

    public static RequestTelemetry Create(ProxyConfig config, Resilience.ResilienceMetrics metrics)
    {
        // The format was checked when the configuration loaded; compiled here once, for the writer's lifetime.
        AccessLogFormat? format = null;
        if (config.Log.AccessLogFormat is { } text && !AccessLogFormat.TryCompile(text, out format, out var error))
        {
            throw new ArgumentException(error, nameof(config));
        }

        var accessLog = config.Log.AccessLog is { } target
            ? AccessLogWriter.Open(target, metrics.AccessLogEntries.WithLabels("written"), metrics.AccessLogEntries.WithLabels("dropped"), format)
            : null;
        var exporter = config.Tracing.Collector is { } collector
            ? new OtlpExporter(new Uri(collector), config.Tracing.ServiceName,
                exported: metrics.TraceSpans.WithLabels("exported"), dropped: metrics.TraceSpans.WithLabels("dropped"), failed: metrics.TraceSpans.WithLabels("failed"))
            : null;
        return new RequestTelemetry(accessLog, exporter, config.Tracing.SamplePercent);
    }

    /// <summary>Whether a new trace (no sampling decision from the client) is sampled.</summary>
    public bool SampleNewTrace() =>
        _samplePercent >= 100 || (_samplePercent > 0 && SharedRandomSource.Instance.Next(10_000) < _samplePercent * 100);

    public async ValueTask DisposeAsync()
    {
        if (AccessLog is not null)
        {
            await AccessLog.DisposeAsync().ConfigureAwait(false);
        }

        if (Exporter is not null)
        {
            await Exporter.DisposeAsync().ConfigureAwait(false);
        }
    }
}
