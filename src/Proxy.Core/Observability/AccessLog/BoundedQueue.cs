using System.Diagnostics.CodeAnalysis;

namespace Proxy.Observability.AccessLog;

/// <summary>
/// A bounded multi-producer multi-consumer queue over a preallocated ring (Dmitry Vyukov's bounded MPMC
/// queue): each cell carries a sequence number that tells producers and consumers whose turn it is, so
/// enqueue and dequeue are one CompareExchange each, never lock and never allocate. Full means
/// <see cref="TryEnqueue"/> returns false; the caller drops and counts.
/// </summary>
/// <typeparam name="T">Item type (references to pooled entries in practice).</typeparam>
public sealed class BoundedQueue<T>
{
    private readonly Cell[] _cells;
    private readonly int _mask;

    // Producers and consumers race on different counters; keep them on separate cache lines.
    private PaddedPosition _enqueuePosition;
    private PaddedPosition _dequeuePosition;

    /// <param name="capacity">Rounded up to a power of two (at least 2).</param>
    public BoundedQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        int size = (int)Math.Max(2, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity));
        _cells = new Cell[size];
        for (int i = 0; i < size; i++)
        {
            _cells[i].Sequence = i;
        }

        _mask = size - 1;
    }

    /// <summary>Slots in the ring.</summary>
    public int Capacity => _cells.Length;

    /// <summary>Items queued now (approximate while others enqueue or dequeue).</summary>
    public int Count => (int)Math.Max(0, Volatile.Read(ref _enqueuePosition.Value) - Volatile.Read(ref _dequeuePosition.Value));

    /// <summary>Adds <paramref name="item"/>; false when the queue is full.</summary>
    public bool TryEnqueue(T item)
    {
        long position = Volatile.Read(ref _enqueuePosition.Value);
        while (true)
        {
            ref Cell cell = ref _cells[(int)position & _mask];
            long sequence = Volatile.Read(ref cell.Sequence);
            long difference = sequence - position;
            if (difference == 0)
            {
                long seen = Interlocked.CompareExchange(ref _enqueuePosition.Value, position + 1, position);
                if (seen == position)
                {
                    cell.Item = item;
                    Volatile.Write(ref cell.Sequence, position + 1);
                    return true;
                }

                position = seen;
            }
            else if (difference < 0)
            {
                return false;
            }
            else
            {
                position = Volatile.Read(ref _enqueuePosition.Value);
            }
        }
    }

    /// <summary>Takes the oldest item; false when the queue is empty.</summary>
    public bool TryDequeue([MaybeNullWhen(false)] out T item)
    {
        long position = Volatile.Read(ref _dequeuePosition.Value);
        while (true)
        {
            ref Cell cell = ref _cells[(int)position & _mask];
            long sequence = Volatile.Read(ref cell.Sequence);
            long difference = sequence - (position + 1);
            if (difference == 0)
            {
                long seen = Interlocked.CompareExchange(ref _dequeuePosition.Value, position + 1, position);
                if (seen == position)
                {
                    item = cell.Item!;
                    cell.Item = default;
                    Volatile.Write(ref cell.Sequence, position + _cells.Length);
                    return true;
                }

                position = seen;
            }
            else if (difference < 0)
            {
                item = default;
                return false;
            }
            else
            {
                position = Volatile.Read(ref _dequeuePosition.Value);
            }
        }
    }

    private struct Cell
    {
        public long Sequence;
        public T? Item;
    }
}
