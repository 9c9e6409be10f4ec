using System.IO.Pipelines;
using System.Numerics;
using Proxy.Transport;

namespace Proxy.Upstream;

/// <summary>
/// The idle upstream HTTP/1.1 connections of one endpoint: slots taken and filled with
/// Interlocked.Exchange / CompareExchange, so renting and returning never lock.
/// The slots grow with the concurrency the endpoint sees (as Envoy and HAProxy keep every idle
/// connection): a burst of N requests in flight leaves N connections for the next burst instead
/// of closing all but a fixed few, which the next burst would open again. Idle connections are
/// reaped by the idle timeout; <see cref="MaxIdle"/> only bounds memory.
/// A connection the upstream closed (FIN) or reset (RST) while idle is noticed on rent (its input
/// has completed, or throws the reset) and dropped; connections idle past the timeout are dropped
/// on rent and by <see cref="Sweep"/>.
/// </summary>
public sealed class ConnectionPool
{
    /// <summary>Slots in the first segment; each further segment doubles the capacity.</summary>
    internal const int FirstSegmentSize = 16;

    // Segment k holds FirstSegmentSize << k slots and starts at slot index FirstSegmentSize * (2^k - 1).
    // Segments are added, never moved or removed: a connection stored in one is never lost to a resize.
    private readonly UpstreamConnection?[]?[] _segments;
    private int _capacity;
    private int _hint;
    private int _idle;

    public ConnectionPool(int maxIdle)
    {
        MaxIdle = Math.Max(0, maxIdle);
        _segments = new UpstreamConnection?[SegmentOf(Math.Max(1, MaxIdle) - 1) + 1][];
        _segments[0] = new UpstreamConnection?[Math.Min(FirstSegmentSize, Math.Max(1, MaxIdle))];
        _capacity = _segments[0]!.Length;
    }

    /// <summary>Most idle connections kept; 0 disables pooling.</summary>
    public int MaxIdle { get; }

    /// <summary>Idle time after which a pooled connection is closed (updated on reload).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests after which a connection is not reused; 0 = no limit (updated on reload).</summary>
    public int MaxRequestsPerConnection { get; set; }

    /// <summary>Connections idle in the pool now.</summary>
    public int IdleCount => Volatile.Read(ref _idle);

    /// <summary>Slots allocated so far (grows with the most connections idle at once, up to <see cref="MaxIdle"/>).</summary>
    public int Capacity => Volatile.Read(ref _capacity);

    /// <summary>Takes an idle connection that is still open, or null.</summary>
    public UpstreamConnection? TryRent(long nowMilliseconds)
    {
        while (Volatile.Read(ref _idle) != 0)
        {
            // Newest first (backwards from the last slot touched): the connections used most stay
            // warm, and the rest age out through the idle timeout.
            var capacity = Volatile.Read(ref _capacity);
            var start = (int)((uint)Volatile.Read(ref _hint) % (uint)capacity);
            UpstreamConnection? connection = null;
            var index = start;
            for (var i = 0; i < capacity && connection is null; i++)
            {
                index = start - i;
                if (index < 0)
                {
                    index += capacity;
                }

                ref var slot = ref Slot(index);
                if (Volatile.Read(ref slot) is not null)
                {
                    connection = Interlocked.Exchange(ref slot, null);
                }
            }

            if (connection is null)
            {
                return null; // the idle ones were taken while we looked
            }

            Interlocked.Decrement(ref _idle);
            Volatile.Write(ref _hint, index);
            if (IsUsable(connection, nowMilliseconds))
            {
                return connection;
            }

            connection.Close();
        }

        return null;
    }

    /// <summary>Puts a connection back; closes it when the pool is full or it has served its quota.</summary>
    public void Return(UpstreamConnection connection, long nowMilliseconds)
    {
        var limit = MaxRequestsPerConnection;
        if (MaxIdle == 0 || (limit > 0 && connection.Requests >= limit) || Volatile.Read(ref _idle) >= MaxIdle)
        {
            connection.Close();
            return;
        }

        connection.IdleSince = nowMilliseconds;
        while (true)
        {
            var capacity = Volatile.Read(ref _capacity);
            var start = (int)((uint)(Volatile.Read(ref _hint) + 1) % (uint)capacity);
            for (var i = 0; i < capacity; i++)
            {
                var index = start + i;
                if (index >= capacity)
                {
                    index -= capacity;
                }

                ref var slot = ref Slot(index);
                if (Volatile.Read(ref slot) is null && Interlocked.CompareExchange(ref slot, connection, null) is null)
                {
                    Interlocked.Increment(ref _idle);
                    Volatile.Write(ref _hint, index);
                    return;
                }
            }

            // Every slot is taken: more connections are idle at once than ever before. Add the next
            // segment (doubling the slots) and try again, unless the bound is reached.
            if (!TryGrow(capacity))
            {
                connection.Close();
                return;
            }
        }
    }

    /// <summary>Closes idle connections past the idle timeout or already closed by the upstream.</summary>
    public void Sweep(long nowMilliseconds)
    {
        var capacity = Volatile.Read(ref _capacity);
        for (var i = 0; i < capacity; i++)
        {
            ref var slot = ref Slot(i);
            if (Volatile.Read(ref slot) is null)
            {
                continue;
            }

            // Take it out before looking: a renter may not read a connection we are checking.
            var connection = Interlocked.Exchange(ref slot, null);
            if (connection is null)
            {
                continue;
            }

            if (!IsUsable(connection, nowMilliseconds))
            {
                Interlocked.Decrement(ref _idle);
                connection.Close();
            }
            else if (Interlocked.CompareExchange(ref slot, connection, null) is not null)
            {
                Interlocked.Decrement(ref _idle);
                Return(connection, connection.IdleSince);
            }
        }
    }

    /// <summary>Closes every idle connection (the endpoint left its cluster).</summary>
    public void Clear()
    {
        var capacity = Volatile.Read(ref _capacity);
        for (var i = 0; i < capacity; i++)
        {
            if (Interlocked.Exchange(ref Slot(i), null) is { } connection)
            {
                Interlocked.Decrement(ref _idle);
                connection.Close();
            }
        }
    }

    /// <summary>The segment a slot index falls in: index / FirstSegmentSize + 1 has its top bit at the segment number.</summary>
    private static int SegmentOf(int index) => BitOperations.Log2((uint)(index / FirstSegmentSize + 1));

    private ref UpstreamConnection? Slot(int index)
    {
        var segment = SegmentOf(index);
        var first = FirstSegmentSize * ((1 << segment) - 1);
        return ref _segments[segment]![index - first];
    }

    /// <summary>Adds the segment after <paramref name="capacity"/> slots; false at the bound.</summary>
    private bool TryGrow(int capacity)
    {
        if (capacity >= MaxIdle)
        {
            return false;
        }

        var segment = SegmentOf(capacity);
        if (Volatile.Read(ref _segments[segment]) is null)
        {
            // The last segment stops at MaxIdle. Two returns racing here make one array each; the
            // loser's is dropped before anyone could store into it.
            var size = Math.Min(FirstSegmentSize << segment, MaxIdle - capacity);
            Interlocked.CompareExchange(ref _segments[segment], new UpstreamConnection?[size], null);
        }

        // Publish the new slots after the segment itself, so no index beyond an allocated segment is seen.
        Interlocked.CompareExchange(ref _capacity, capacity + _segments[segment]!.Length, capacity);
        return true;
    }

    private bool IsUsable(UpstreamConnection connection, long nowMilliseconds)
    {
        if (nowMilliseconds - connection.IdleSince > (long)IdleTimeout.TotalMilliseconds)
        {
            return false;
        }

        // An idle HTTP/1.1 connection has nothing to say: a completed input is the upstream's FIN,
        // and unexpected bytes mean it is out of step. Either way it cannot carry a request.
        ReadResult result;
        try
        {
            if (!connection.Input.TryRead(out result))
            {
                return true;
            }
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            // A reset (RST) while idle: the receive loop completed the input with the error, and
            // every read, TryRead included, throws it. Dead like a FIN, and never the renter's (or
            // the sweep timer's) exception: a request would close its client without an answer.
            return false;
        }

        var usable = !result.IsCompleted && result.Buffer.IsEmpty && !result.IsCanceled;
        connection.Input.AdvanceTo(result.Buffer.Start);
        return usable;
    }
}
