namespace Proxy.Upstream;

/// <summary>
/// The idle upstream HTTP/1.1 connections of one endpoint: a bounded set of slots taken and
/// filled with Interlocked.Exchange / CompareExchange, so renting and returning never lock.
/// A connection the upstream closed while idle is noticed on rent (its input has completed) and
/// dropped; connections idle past the timeout are dropped on rent and by <see cref="Sweep"/>.
/// </summary>
public sealed class ConnectionPool
{
    private readonly UpstreamConnection?[] _slots;
    private int _hint;
    private int _idle;

    public ConnectionPool(int maxIdle)
    {
        _slots = new UpstreamConnection?[Math.Max(1, maxIdle)];
        MaxIdle = maxIdle;
    }

    /// <summary>Most idle connections kept; 0 disables pooling.</summary>
    public int MaxIdle { get; }

    /// <summary>Idle time after which a pooled connection is closed (updated on reload).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests after which a connection is not reused; 0 = no limit (updated on reload).</summary>
    public int MaxRequestsPerConnection { get; set; }

    /// <summary>Connections idle in the pool now.</summary>
    public int IdleCount => Volatile.Read(ref _idle);

    /// <summary>Takes an idle connection that is still open, or null.</summary>
    public UpstreamConnection? TryRent(long nowMilliseconds)
    {
        if (Volatile.Read(ref _idle) == 0)
        {
            return null;
        }

        var slots = _slots;
        var start = (int)((uint)Volatile.Read(ref _hint) % (uint)slots.Length);
        for (var i = 0; i < slots.Length; i++)
        {
            var index = start - i;
            if (index < 0)
            {
                index += slots.Length;
            }

            var connection = Interlocked.Exchange(ref slots[index], null);
            if (connection is null)
            {
                continue;
            }

            Interlocked.Decrement(ref _idle);
            Volatile.Write(ref _hint, index);
            if (IsUsable(connection, nowMilliseconds))
            {
                return connection;
            }

            connection.Dispose();
        }

        return null;
    }

    /// <summary>Puts a connection back; closes it when the pool is full or it has served its quota.</summary>
    public void Return(UpstreamConnection connection, long nowMilliseconds)
    {
        var limit = MaxRequestsPerConnection;
        if (MaxIdle == 0 || (limit > 0 && connection.Requests >= limit))
        {
            connection.Dispose();
            return;
        }

        connection.IdleSince = nowMilliseconds;
        var slots = _slots;
        var start = (int)((uint)(Volatile.Read(ref _hint) + 1) % (uint)slots.Length);
        for (var i = 0; i < slots.Length; i++)
        {
            var index = start + i;
            if (index >= slots.Length)
            {
                index -= slots.Length;
            }

            if (Interlocked.CompareExchange(ref slots[index], connection, null) is null)
            {
                Interlocked.Increment(ref _idle);
                Volatile.Write(ref _hint, index);
                return;
            }
        }

        connection.Dispose();
    }

    /// <summary>Closes idle connections past the idle timeout or already closed by the upstream.</summary>
    public void Sweep(long nowMilliseconds)
    {
        var slots = _slots;
        for (var i = 0; i < slots.Length; i++)
        {
            // Take it out before looking: a renter may not read a connection we are checking.
            var connection = Interlocked.Exchange(ref slots[i], null);
            if (connection is null)
            {
                continue;
            }

            if (!IsUsable(connection, nowMilliseconds))
            {
                Interlocked.Decrement(ref _idle);
                connection.Dispose();
            }
            else if (Interlocked.CompareExchange(ref slots[i], connection, null) is not null)
            {
                Interlocked.Decrement(ref _idle);
                Return(connection, connection.IdleSince);
            }
        }
    }

    /// <summary>Closes every idle connection (the endpoint left its cluster).</summary>
    public void Clear()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.Exchange(ref _slots[i], null) is { } connection)
            {
                Interlocked.Decrement(ref _idle);
                connection.Dispose();
            }
        }
    }

    private bool IsUsable(UpstreamConnection connection, long nowMilliseconds)
    {
        if (nowMilliseconds - connection.IdleSince > (long)IdleTimeout.TotalMilliseconds)
        {
            return false;
        }

        // An idle HTTP/1.1 connection has nothing to say: a completed input is the upstream's FIN,
        // and unexpected bytes mean it is out of step. Either way it cannot carry a request.
        if (connection.Input.TryRead(out var result))
        {
            var usable = !result.IsCompleted && result.Buffer.IsEmpty && !result.IsCanceled;
            connection.Input.AdvanceTo(result.Buffer.Start);
            return usable;
        }

        return true;
    }
}
