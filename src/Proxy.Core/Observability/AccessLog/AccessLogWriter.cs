using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Proxy.Observability.Metrics;

namespace Proxy.Observability.AccessLog;

/// <summary>
/// The access log sink: request paths rent a preallocated <see cref="AccessLogEntry"/>, fill it and publish it
/// (two lock-free queue operations, no allocation, never blocking); one background task formats published entries
/// as JSON lines into a reused buffer and writes them to stdout or a file. When every entry is in use (the sink
/// is slower than the traffic) <see cref="TryRent"/> returns null and the line is dropped and counted.
/// </summary>
public sealed class AccessLogWriter : IAsyncDisposable
{
    /// <summary>Entries preallocated by default.</summary>
    public const int DefaultCapacity = 4096;

    private const int WriteThreshold = 64 * 1024;

    private readonly BoundedQueue<AccessLogEntry> _free;
    private readonly BoundedQueue<AccessLogEntry> _ready;
    private readonly Stream _output;
    private readonly bool _ownsOutput;
    private readonly ArrayBufferWriter<byte> _buffer = new(WriteThreshold * 2);
    private readonly Utf8JsonWriter _json;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _flushInterval;
    private readonly Task _loop;
    private int _sleeping;

    /// <param name="output">Where lines go.</param>
    /// <param name="ownsOutput">Whether disposing the writer disposes <paramref name="output"/>.</param>
    /// <param name="capacity">Entries preallocated (the most lines in flight).</param>
    /// <param name="written">Counts lines written (detached when null).</param>
    /// <param name="dropped">Counts lines dropped (detached when null).</param>
    /// <param name="flushInterval">Longest wait before queued lines are written (default 200 ms).</param>
    public AccessLogWriter(Stream output, bool ownsOutput = true, int capacity = DefaultCapacity, Counter? written = null, Counter? dropped = null, TimeSpan? flushInterval = null)
    {
        _output = output;
        _ownsOutput = ownsOutput;
        _free = new BoundedQueue<AccessLogEntry>(capacity);
        _ready = new BoundedQueue<AccessLogEntry>(_free.Capacity);
        for (int i = 0; i < _free.Capacity; i++)
        {
            _free.TryEnqueue(new AccessLogEntry());
        }

        Written = written ?? new Counter();
        Dropped = dropped ?? new Counter();
        _flushInterval = flushInterval ?? TimeSpan.FromMilliseconds(200);
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Lines written.</summary>
    public Counter Written { get; }

    /// <summary>Lines dropped because every entry was in use.</summary>
    public Counter Dropped { get; }

    /// <summary>Writes to the output that failed (their lines are lost).</summary>
    public Counter WriteErrors { get; } = new();

    /// <summary>A writer for the <c>log.access_log</c> setting: <c>stdout</c>, or a file path (appended to).</summary>
    public static AccessLogWriter Open(string target, Counter? written = null, Counter? dropped = null) =>
        target == "stdout"
            ? new AccessLogWriter(Console.OpenStandardOutput(), true, DefaultCapacity, written, dropped)
            : new AccessLogWriter(new FileStream(target, FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.None), true, DefaultCapacity, written, dropped);

    /// <summary>A cleared entry to fill, or null (counted as dropped) when all are in use: skip logging this request.</summary>
    public AccessLogEntry? TryRent()
    {
        if (_free.TryDequeue(out var entry))
        {
            return entry;
        }

        Dropped.Increment();
        return null;
    }

    /// <summary>Queues a filled entry for writing; the entry must not be touched afterwards.</summary>
    public void Publish(AccessLogEntry entry)
    {
        // The ready queue has room for every entry, so this cannot fail.
        _ready.TryEnqueue(entry);
        if (Volatile.Read(ref _sleeping) != 0 && Interlocked.Exchange(ref _sleeping, 0) != 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Stops the background task after writing every published entry.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _wake.Release();
        await _loop.ConfigureAwait(false);
        Drain();
        await _output.FlushAsync().ConfigureAwait(false);
        if (_ownsOutput)
        {
            await _output.DisposeAsync().ConfigureAwait(false);
        }

        await _json.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (Drain() > 0)
            {
                await _output.FlushAsync().ConfigureAwait(false);
            }

            Volatile.Write(ref _sleeping, 1);
            if (_ready.Count == 0)
            {
                await _wake.WaitAsync(_flushInterval).ConfigureAwait(false);
            }

            Volatile.Write(ref _sleeping, 0);
        }
    }

    // Formats and writes everything queued; returns the lines written. Only the loop (or dispose, after it) calls it.
    private int Drain()
    {
        int lines = 0;
        while (_ready.TryDequeue(out var entry))
        {
            _json.Reset(_buffer);
            AccessLogFormatter.Write(_json, entry);
            _json.Flush();
            _buffer.Write("\n"u8);
            entry.Clear();
            _free.TryEnqueue(entry);
            lines++;
            if (_buffer.WrittenCount >= WriteThreshold)
            {
                WriteBuffer();
            }
        }

        WriteBuffer();
        Written.Add(lines);
        return lines;
    }

    private void WriteBuffer()
    {
        if (_buffer.WrittenCount > 0)
        {
            try
            {
                _output.Write(_buffer.WrittenSpan);
            }
            catch (IOException)
            {
                // A full disk or a closed stdout loses these lines, not the process; they stay countable.
                WriteErrors.Increment();
            }

            _buffer.ResetWrittenCount();
        }
    }
}
