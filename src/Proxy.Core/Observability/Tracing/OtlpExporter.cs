using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Proxy.Observability.AccessLog;
using Proxy.Observability.Metrics;

namespace Proxy.Observability.Tracing;

/// <summary>
/// Exports finished spans to an OpenTelemetry collector over OTLP/HTTP JSON (<c>POST {collector}/v1/traces</c>).
/// Request paths rent a preallocated <see cref="TraceSpan"/>, fill it and <see cref="Publish"/> it (lock-free, no
/// allocation, never blocking); a background task batches published spans (up to <see cref="BatchSize"/>, or
/// whatever arrived within the flush interval), writes the JSON with <see cref="Utf8JsonWriter"/> into a reused
/// buffer and posts it with <see cref="HttpClient"/>. When every span is in use, spans are dropped and counted.
/// </summary>
public sealed class OtlpExporter : IAsyncDisposable
{
    /// <summary>Spans preallocated by default.</summary>
    public const int DefaultCapacity = 2048;

    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly BoundedQueue<TraceSpan> _free;
    private readonly BoundedQueue<TraceSpan> _ready;
    private readonly Uri _tracesUri;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly string _serviceName;
    private readonly TimeSpan _flushInterval;
    private readonly TraceSpan[] _batch;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="collector">The collector's base URL (e.g. http://otel:4318); <c>/v1/traces</c> is appended.</param>
    /// <param name="serviceName">The <c>service.name</c> resource attribute.</param>
    /// <param name="http">The client to post with (one is made when null).</param>
    /// <param name="capacity">Spans preallocated (the most spans in flight).</param>
    /// <param name="batchSize">Most spans per request.</param>
    /// <param name="flushInterval">Longest wait before queued spans are sent (default 1 s).</param>
    /// <param name="exported">Counts spans accepted by the collector.</param>
    /// <param name="dropped">Counts spans dropped because every span was in use.</param>
    /// <param name="failed">Counts spans whose export failed.</param>
    public OtlpExporter(Uri collector, string serviceName = "proxy", HttpClient? http = null, int capacity = DefaultCapacity, int batchSize = 512, TimeSpan? flushInterval = null, Counter? exported = null, Counter? dropped = null, Counter? failed = null)
    {
        _tracesUri = new Uri(collector, "v1/traces");
        _serviceName = serviceName;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        _free = new BoundedQueue<TraceSpan>(capacity);
        _ready = new BoundedQueue<TraceSpan>(_free.Capacity);
        for (int i = 0; i < _free.Capacity; i++)
        {
            _free.TryEnqueue(new TraceSpan());
        }

        BatchSize = Math.Max(1, batchSize);
        _batch = new TraceSpan[BatchSize];
        _flushInterval = flushInterval ?? TimeSpan.FromSeconds(1);
        Exported = exported ?? new Counter();
        Dropped = dropped ?? new Counter();
        Failed = failed ?? new Counter();
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Most spans per export request.</summary>
    public int BatchSize { get; }

    /// <summary>Spans the collector accepted.</summary>
    public Counter Exported { get; }

    /// <summary>Spans dropped because every span was in use.</summary>
    public Counter Dropped { get; }

    /// <summary>Spans lost to failed exports (connection errors, non-2xx answers).</summary>
    public Counter Failed { get; }

    /// <summary>A cleared span to fill, or null (counted as dropped) when all are in use.</summary>
    public TraceSpan? TryRent()
    {
        if (_free.TryDequeue(out var span))
        {
            return span;
        }

        Dropped.Increment();
        return null;
    }

    /// <summary>Queues a finished span; it must not be touched afterwards. Unsampled spans are simply returned.</summary>
    public void Publish(TraceSpan span)
    {
        if (!span.Context.Sampled)
        {
            span.Clear();
            _free.TryEnqueue(span);
            return;
        }

        _ready.TryEnqueue(span);
    }

    /// <summary>Sends every published span, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        while (_ready.Count > 0)
        {
            await ExportBatchAsync(CancellationToken.None).ConfigureAwait(false);
        }

        if (_ownsHttp)
        {
            _http.Dispose();
        }

        await _json.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            if (_ready.Count < BatchSize)
            {
                try
                {
                    await Task.Delay(_flushInterval, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            while (_ready.Count > 0 && !token.IsCancellationRequested)
            {
                await ExportBatchAsync(token).ConfigureAwait(false);
            }
        }
    }

    private async Task ExportBatchAsync(CancellationToken cancellationToken)
    {
        int count = 0;
        while (count < _batch.Length && _ready.TryDequeue(out var span))
        {
            _batch[count++] = span;
        }

        if (count == 0)
        {
            return;
        }

        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        OtlpJsonWriter.Write(_json, _batch.AsSpan(0, count), _serviceName);
        _json.Flush();
        for (int i = 0; i < count; i++)
        {
            _batch[i].Clear();
            _free.TryEnqueue(_batch[i]);
            _batch[i] = null!;
        }

        try
        {
            using var content = new ReadOnlyMemoryContent(_buffer.WrittenMemory);
            content.Headers.ContentType = s_json;
            using var response = await _http.PostAsync(_tracesUri, content, cancellationToken).ConfigureAwait(false);
            (response.IsSuccessStatusCode ? Exported : Failed).Add(count);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            // The collector is down or slow: these spans are lost and counted; the proxy carries on.
            Failed.Add(count);
        }
    }
}
