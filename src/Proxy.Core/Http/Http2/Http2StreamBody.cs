using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;
using Proxy.Buffers;

namespace Proxy.Http.Http2;

/// <summary>
/// The body of one HTTP/2 stream as its consumer reads it: the connection's read loop appends DATA payloads (under
/// the connection lock) and ends it, the consumer reads through the <see cref="PipeReader"/> API.
/// </summary>
/// <remarks>
/// <para>
/// This is a <see cref="Pipe"/> cut down to what a stream needs, in one object: a Pipe brings its own lock object,
/// two awaitables, a completion pair, a segment stack and a scheduler, several cache lines that every DATA frame,
/// read and release touched. With thousands of streams in flight a stream's objects are out of the CPU cache by the
/// time its response arrives, so each of those lines was a miss on every response.
/// </para>
/// <para>
/// What stays the same: the reader sees the bytes in order as a <see cref="ReadOnlySequence{T}"/> over pooled blocks;
/// <c>AdvanceTo(consumed, examined)</c> with everything examined makes the next read wait for more; a writer ended
/// with an exception (a reset) makes reads throw it; <see cref="CancelPendingRead"/> ends the pending or next read
/// with <see cref="ReadResult.IsCanceled"/>. The writer is never paused: flow control bounds what is buffered.
/// A waiting reader is resumed through <see cref="Async.ReadBatch"/>, on the read loop's thread once its batch is
/// processed (or on the thread pool), never inside the read loop.
/// </para>
/// </remarks>
internal sealed class Http2StreamBody : PipeReader, IValueTaskSource<ReadResult>, IThreadPoolWorkItem
{
    private readonly Lock _lock = new();
    private BodySegment? _head;      // first segment with unconsumed bytes; null when none was written since the reset
    private int _headIndex;          // bytes of _head already consumed
    private BodySegment? _tail;      // the segment the writer appends to
    private BodySegment? _free;      // segment objects kept for reuse (their blocks went back to the pool)
    private long _written;           // bytes written since the reset
    private long _examined;          // bytes the reader examined: a read waits until more than this was written
    private long _returnedEnd;       // _written when the last buffer was handed out: what an empty buffer's positions stand for
    private bool _writerCompleted;
    private Exception? _writerError;
    private bool _readerCompleted;
    private bool _cancelPending;     // CancelPendingRead with no read pending: the next read returns cancelled

    // The pending read: at most one (PipeReader's contract).
    private short _version;
    private bool _waiting;           // ReadAsync returned a pending ValueTask whose GetResult has not run
    private bool _ready;             // the pending read can complete
    private bool _queued;            // its continuation is queued to run (ReadBatch or thread pool)
    private bool _tokenCanceled;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;

    // ---- writer side: the connection's read loop, under the connection lock ----

    /// <summary>Appends a DATA payload and wakes a waiting reader. Dropped once either end completed.</summary>
    internal void Write(in ReadOnlySequence<byte> payload)
    {
        bool wake;
        lock (_lock)
        {
            if (_writerCompleted || _readerCompleted)
            {
                return;
            }

            foreach (ReadOnlyMemory<byte> memory in payload)
            {
                AppendLocked(memory.Span);
            }

            _written += payload.Length;
            wake = ReadyLocked();
        }

        if (wake)
        {
            Schedule();
        }
    }

    /// <summary>Ends the body: reads see <see cref="ReadResult.IsCompleted"/> once the bytes are read, or throw <paramref name="error"/>.</summary>
    internal void CompleteWriter(Exception? error = null)
    {
        bool wake;
        lock (_lock)
        {
            if (_writerCompleted)
            {
                return;
            }

            _writerCompleted = true;
            _writerError = error;
            wake = ReadyLocked();
        }

        if (wake)
        {
            Schedule();
        }
    }

    /// <summary>
    /// Readies the object for another stream: both ends must have completed and no read may be pending or queued,
    /// else false (the caller then lets the object go).
    /// </summary>
    internal bool TryReset()
    {
        lock (_lock)
        {
            if (!_readerCompleted || !_writerCompleted || _waiting || _queued)
            {
                return false;
            }

            ReleaseAllLocked();
            _written = 0;
            _examined = 0;
            _returnedEnd = 0;
            _writerCompleted = false;
            _writerError = null;
            _readerCompleted = false;
            _cancelPending = false;
            _tokenCanceled = false;
            _ready = false;
            return true;
        }
    }

    // ---- reader side: the stream's consumer ----

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            ThrowIfReaderCompleted();
            if (TryReadLocked(out ReadResult result))
            {
                return new ValueTask<ReadResult>(result);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<ReadResult>(cancellationToken);
            }

            _waiting = true;
            _ready = false;
            if (cancellationToken.CanBeCanceled)
            {
                _token = cancellationToken;
                _registration = cancellationToken.UnsafeRegister(static state => ((Http2StreamBody)state!).OnTokenCanceled(), this);
            }

            return new ValueTask<ReadResult>(this, _version);
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        lock (_lock)
        {
            ThrowIfReaderCompleted();
            return TryReadLocked(out result);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        lock (_lock)
        {
            ThrowIfReaderCompleted();

            // A position of an empty buffer names no segment: it stands for the end of what that read returned, not
            // for bytes written since (which the reader has not seen, so they must not count as examined).
            _examined = examined.GetObject() is BodySegment examinedSegment
                ? examinedSegment.RunningIndex + examined.GetInteger()
                : _returnedEnd;

            if (_head is null || consumed.GetObject() is not BodySegment consumedSegment)
            {
                return;
            }

            // Segments before the consumed position are done: their blocks go back to the pool.
            while (_head != consumedSegment && _head.Next is BodySegment next)
            {
                BodySegment done = _head;
                _head = next;
                FreeLocked(done);
            }

            _headIndex = consumed.GetInteger();
            if (_head == _tail && _headIndex == _tail.Memory.Length)
            {
                // Everything written was consumed: the last block goes back too (an idle stream holds none).
                FreeLocked(_head);
                _head = _tail = null;
                _headIndex = 0;
            }
        }
    }

    public override void CancelPendingRead()
    {
        bool wake;
        lock (_lock)
        {
            _cancelPending = true;
            wake = ReadyLocked();
        }

        if (wake)
        {
            Schedule();
        }
    }

    public override void Complete(Exception? exception = null)
    {
        lock (_lock)
        {
            _readerCompleted = true;
            ReleaseAllLocked();
        }
    }

    // ---- the pending read as a ValueTask source ----

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token)
    {
        lock (_lock)
        {
            ThrowIfWrongToken(token);
            if (!_ready)
            {
                return ValueTaskSourceStatus.Pending;
            }

            return _tokenCanceled ? ValueTaskSourceStatus.Canceled
                : _writerError is not null ? ValueTaskSourceStatus.Faulted
                : ValueTaskSourceStatus.Succeeded;
        }
    }

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        bool runNow;
        lock (_lock)
        {
            ThrowIfWrongToken(token);
            _continuation = continuation;
            _continuationState = state;
            runNow = _ready; // completed between ReadAsync and this registration
            if (runNow)
            {
                _queued = true;
            }
        }

        if (runNow)
        {
            Async.ReadBatch.Schedule(this);
        }
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
    {
        CancellationTokenRegistration registration;
        ReadResult result;
        lock (_lock)
        {
            ThrowIfWrongToken(token);
            _version++;
            _waiting = false;
            _ready = false;
            registration = _registration;
            _registration = default;
            if (_tokenCanceled)
            {
                _tokenCanceled = false;
                CancellationToken canceled = _token;
                _token = default;
                registration.Unregister();
                throw new OperationCanceledException(canceled);
            }

            _token = default;
            if (!TryReadLocked(out result))
            {
                // Only a completion makes a pending read ready, so this is not reached; read again rather than lie.
                _returnedEnd = _written;
                result = new ReadResult(BufferLocked(), isCanceled: false, isCompleted: _writerCompleted);
            }
        }

        registration.Unregister();
        return result;
    }

    void IThreadPoolWorkItem.Execute()
    {
        Action<object?>? continuation;
        object? state;
        lock (_lock)
        {
            continuation = _continuation;
            state = _continuationState;
            _continuation = null;
            _continuationState = null;
            _queued = false;
        }

        continuation?.Invoke(state);
    }

    // ---- internals ----

    private void OnTokenCanceled()
    {
        bool wake;
        lock (_lock)
        {
            if (!_waiting || _ready)
            {
                return;
            }

            _tokenCanceled = true;
            wake = ReadyLocked();
        }

        if (wake)
        {
            Schedule();
        }
    }

    /// <summary>Marks a pending read ready; true when its continuation is registered and must now be queued.</summary>
    private bool ReadyLocked()
    {
        if (!_waiting || _ready)
        {
            return false;
        }

        _ready = true;
        if (_continuation is null)
        {
            return false; // OnCompleted, when it comes, sees _ready and queues it
        }

        _queued = true;
        return true;
    }

    private void Schedule() => Async.ReadBatch.Schedule(this);

    private bool TryReadLocked(out ReadResult result)
    {
        if (_writerCompleted && _writerError is not null)
        {
            throw _writerError;
        }

        bool canceled = _cancelPending;
        if (canceled || _written > _examined || _writerCompleted)
        {
            _cancelPending = false;
            _returnedEnd = _written;
            result = new ReadResult(BufferLocked(), canceled, _writerCompleted);
            return true;
        }

        result = default;
        return false;
    }

    private ReadOnlySequence<byte> BufferLocked() =>
        _head is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(_head, _headIndex, _tail!, _tail!.Memory.Length);

    private void AppendLocked(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_tail is null || _tail.Available == 0)
            {
                BodySegment segment = _free ?? new BodySegment();
                _free = segment.NextFree;
                segment.NextFree = null;
                segment.Start(BlockMemoryPool.Shared.Rent(), _tail is null ? _written : _tail.RunningIndex + _tail.Memory.Length);
                if (_tail is null)
                {
                    _head = segment;
                    _headIndex = 0;
                }
                else
                {
                    _tail.Link(segment);
                }

                _tail = segment;
            }

            int n = _tail.Append(bytes);
            bytes = bytes[n..];
        }
    }

    private void FreeLocked(BodySegment segment)
    {
        segment.Release();
        segment.NextFree = _free;
        _free = segment;
    }

    private void ReleaseAllLocked()
    {
        BodySegment? segment = _head;
        while (segment is not null)
        {
            var next = (BodySegment?)segment.Next;
            FreeLocked(segment);
            segment = next;
        }

        _head = _tail = null;
        _headIndex = 0;
    }

    private void ThrowIfReaderCompleted()
    {
        if (_readerCompleted)
        {
            throw new InvalidOperationException("the stream body's reader has completed");
        }
    }

    private void ThrowIfWrongToken(short token)
    {
        if (token != _version)
        {
            throw new InvalidOperationException("the stream body's read was already awaited");
        }
    }

    /// <summary>One pooled block of the body, linked in order; its memory grows as the writer appends to it.</summary>
    private sealed class BodySegment : ReadOnlySequenceSegment<byte>
    {
        private IMemoryOwner<byte>? _block;
        private Memory<byte> _whole;

        public BodySegment? NextFree;

        public int Available => _whole.Length - Memory.Length;

        public void Start(IMemoryOwner<byte> block, long runningIndex)
        {
            _block = block;
            _whole = block.Memory;
            Memory = _whole[..0];
            RunningIndex = runningIndex;
            Next = null;
        }

        public int Append(ReadOnlySpan<byte> bytes)
        {
            int used = Memory.Length;
            int n = Math.Min(bytes.Length, _whole.Length - used);
            bytes[..n].CopyTo(_whole.Span[used..]);
            Memory = _whole[..(used + n)];
            return n;
        }

        public void Link(BodySegment next) => Next = next;

        public void Release()
        {
            _block?.Dispose();
            _block = null;
            _whole = default;
            Memory = default;
            Next = null;
        }
    }
}
