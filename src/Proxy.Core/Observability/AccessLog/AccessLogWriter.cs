using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Proxy.Observability.Metrics;

namespace Proxy.Observability.AccessLog;

/// <summary>
/// The access log sink: request paths rent a preallocated <see cref="AccessLogEntry"/>, fill it and publish it
/// (two lock-free queue operations, no allocation, never blocking); one background thread formats published entries
/// as JSON lines into a reused buffer and writes them to stdout or a file. When every entry is in use (the sink
/// is slower than the traffic) <see cref="TryRent"/> returns null and the line is dropped and counted.
/// </summary>
/// <remarks>
/// The writer batches: after writing lines it sleeps for the flush interval, so under load it wakes a few times a
/// second rather than once per request, and publishers wake it early only when a quarter of the entries are
/// queued. With nothing queued it sleeps until the next publish. Its own thread blocks in a plain wait, which
/// allocates nothing (an async timed wait allocates a task and a timer each time), and the blocking file writes
/// stay off the socket and thread-pool threads.
/// </remarks>
public sealed class AccessLogWriter : IAsyncDisposable
{
    /// <summary>Entries preallocated by default.</summary>
    public const int DefaultCapacity = 4096;

    private const int WriteThreshold = 64 * 1024;

    // What the writer thread is doing (_state); publishers read it to decide whether to wake it (see Publish).
    private const int Awake = 0;     // draining, or about to: no wake-up needed
    private const int Idle = 1;      // found nothing last time: the next publish wakes it
    private const int Batching = 2;  // wrote lines: sleeps a flush interval unless a quarter of the entries queue up

    private readonly BoundedQueue<AccessLogEntry> _free;
    private readonly BoundedQueue<AccessLogEntry> _ready;
    private readonly AccessLogFile? _file;
    private Stream _output;
    private readonly bool _ownsOutput;
    private readonly ArrayBufferWriter<byte> _buffer = new(WriteThreshold * 2);
    private readonly Utf8JsonWriter _json;

    // Touched by publishers (any thread) and the writer thread.
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _flushIntervalMs;
    private readonly int _wakeThreshold;
    private int _state;
    private volatile bool _stopping;

    /// <param name="output">Where lines go.</param>
    /// <param name="ownsOutput">Whether disposing the writer disposes <paramref name="output"/>.</param>
    /// <param name="capacity">Entries preallocated (the most lines in flight).</param>
    /// <param name="written">Counts lines written (detached when null).</param>
    /// <param name="dropped">Counts lines dropped (detached when null).</param>
    /// <param name="flushInterval">Longest wait before queued lines are written (default 200 ms).</param>
    public AccessLogWriter(Stream output, bool ownsOutput = true, int capacity = DefaultCapacity, Counter? written = null, Counter? dropped = null, TimeSpan? flushInterval = null)
        : this(output, null, ownsOutput, capacity, written, dropped, flushInterval)
    {
    }

    private AccessLogWriter(Stream output, AccessLogFile? file, bool ownsOutput, int capacity, Counter? written, Counter? dropped, TimeSpan? flushInterval)
    {
        _output = output;
        _file = file;
        _ownsOutput = ownsOutput;
        _free = new BoundedQueue<AccessLogEntry>(capacity);
        _ready = new BoundedQueue<AccessLogEntry>(_free.Capacity);
        for (int i = 0; i < _free.Capacity; i++)
        {
            _free.TryEnqueue(new AccessLogEntry());
        }

        Written = written ?? new Counter();
        Dropped = dropped ?? new Counter();
        _flushIntervalMs = (int)Math.Clamp((flushInterval ?? TimeSpan.FromMilliseconds(200)).TotalMilliseconds, 1, int.MaxValue);
        _wakeThreshold = Math.Max(1, _free.Capacity / 4);
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        new Thread(Run) { IsBackground = true, Name = "access-log" }.Start();
    }

    /// <summary>Lines written.</summary>
    public Counter Written { get; }

    /// <summary>Lines dropped because every entry was in use.</summary>
    public Counter Dropped { get; }

    /// <summary>Writes to the output that failed (their lines are lost).</summary>
    public Counter WriteErrors { get; } = new();

    /// <summary>
    /// A writer appending to the file at <paramref name="path"/>, reopened when it is moved away or deleted
    /// (logrotate without copytruncate: checked at most once a second, before lines are written) and on
    /// <see cref="RequestReopen"/> (SIGUSR1).
    /// </summary>
    public AccessLogWriter(string path, int capacity = DefaultCapacity, Counter? written = null, Counter? dropped = null, TimeSpan? flushInterval = null)
        : this(AccessLogFile.Open(path, out var file), file, true, capacity, written, dropped, flushInterval)
    {
    }

    /// <summary>
    /// A writer for the <c>log.access_log</c> setting: <c>stdout</c>, or a file path (appended to); lines are JSON, or
    /// written by <paramref name="format"/> (<c>log.access_log_format</c>) when given.
    /// </summary>
    public static AccessLogWriter Open(string target, Counter? written = null, Counter? dropped = null, AccessLogFormat? format = null)
    {
        var writer = target == "stdout"
            ? new AccessLogWriter(Console.OpenStandardOutput(), true, DefaultCapacity, written, dropped)
            : new AccessLogWriter(target, DefaultCapacity, written, dropped);
        writer.Format = format;
        return writer;
    }

    /// <summary>The text format of the lines; null for JSON. Set before the first entry is published.</summary>
    public AccessLogFormat? Format { get; private set; }

    /// <summary>Times the file was reopened (moved away, or asked for).</summary>
    public long Reopens => _file?.Reopens ?? 0;

    /// <summary>Asks the writer thread to reopen the file before it writes again (SIGUSR1); nothing for stdout.</summary>
    public void RequestReopen()
    {
        if (_file is not null)
        {
            _file.RequestReopen();
            Interlocked.Exchange(ref _state, Awake);
            _wake.Release();
        }
    }

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
        // The ready queue has room for every entry, so this cannot fail. Its compare-exchange is a full fence:
        // either the writer sees this entry after announcing its sleep, or this sees the announcement.
        _ready.TryEnqueue(entry);
        int state = Volatile.Read(ref _state);
        if (state != Awake
            && (state == Idle || _ready.Count >= _wakeThreshold)
            && Interlocked.CompareExchange(ref _state, Awake, state) == state)
        {
            // One publisher wins the wake-up of each sleep.
            _wake.Release();
        }
    }

    /// <summary>Stops the background thread after writing every published entry.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _wake.Release();
        await _stopped.Task.ConfigureAwait(false);
        Drain();
        Flush();
        if (_ownsOutput)
        {
            await _output.DisposeAsync().ConfigureAwait(false);
        }

        await _json.DisposeAsync().ConfigureAwait(false);
        _wake.Dispose();
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                // After writing lines, gather the next batch for a flush interval; after finding none, sleep
                // until a publish (or stop) wakes the thread.
                ReopenIfNeeded();
                int lines = Drain();
                if (lines > 0)
                {
                    Flush();
                }

                int sleep = lines > 0 ? Batching : Idle;
                Interlocked.Exchange(ref _state, sleep);
                int queued = _ready.Count;
                if (!_stopping && (sleep == Idle ? queued == 0 : queued < _wakeThreshold))
                {
                    // A wake-up that raced with a timeout leaves the count at one: the next wait returns at once.
                    _wake.Wait(sleep == Idle ? Timeout.Infinite : _flushIntervalMs);
                }

                Interlocked.Exchange(ref _state, Awake);
            }

            _stopped.TrySetResult();
        }
        catch (Exception e)
        {
            // Seen by DisposeAsync, as a faulted loop task was: a background thread must not take the process down.
            _stopped.TrySetException(e);
        }
    }

    // Writer thread only: a rotated or deleted file, or a reopen request, swaps the output before the next lines.
    private void ReopenIfNeeded()
    {
        if (_file is not null && _file.TryReopen(_output) is { } reopened)
        {
            Flush();
            _output.Dispose();
            _output = reopened;
        }
    }

    // Formats and writes everything queued; returns the lines written. Only the writer thread (or dispose, after it) calls it.
    private int Drain()
    {
        int lines = 0;
        while (_ready.TryDequeue(out var entry))
        {
            if (Format is { } format)
            {
                format.Write(_buffer, entry);
            }
            else
            {
                _json.Reset(_buffer);
                AccessLogFormatter.Write(_json, entry);
                _json.Flush();
                _buffer.Write("\n"u8);
            }
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

    // Synchronous, like the writes: a file without buffering has nothing to flush, and Stream.FlushAsync's base
    // implementation (stdout's) queues a task.
    private void Flush()
    {
        try
        {
            _output.Flush();
        }
        catch (IOException)
        {
            WriteErrors.Increment();
        }
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
