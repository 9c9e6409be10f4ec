using System.Collections.Concurrent;

namespace Proxy.Runtime;

/// <summary>
/// Every live downstream connection of the process. A one-second heartbeat runs idle checks (the
/// Kestrel approach: one timer for all connections instead of one per connection), and drain waits
/// here for the count to reach zero.
/// </summary>
public sealed class ConnectionTracker : IDisposable
{
    private readonly ConcurrentDictionary<long, ITrackedConnection> _live = new();
    private readonly Timer _heartbeat;
    private long _nextId;
    private TaskCompletionSource? _emptied;
    private volatile bool _draining;

    public ConnectionTracker(TimeSpan? heartbeat = null)
    {
        var period = heartbeat ?? TimeSpan.FromSeconds(1);
        _heartbeat = new Timer(static state => ((ConnectionTracker)state!).Tick(), this, period, period);
    }

    public int Count => _live.Count;

    public long Add(ITrackedConnection connection)
    {
        var id = Interlocked.Increment(ref _nextId);
        _live[id] = connection;
        if (_draining)
        {
            connection.Drain(); // accepted during the drain window: served, then closed like the rest
        }

        return id;
    }

    /// <summary>Asks every connection, and every one added from now on, to close once its work is done (<see cref="ITrackedConnection.Drain"/>).</summary>
    public void BeginDrain()
    {
        _draining = true;
        foreach (var connection in _live.Values)
        {
            connection.Drain();
        }
    }

    public void Remove(long id)
    {
        if (_live.TryRemove(id, out _) && _live.IsEmpty)
        {
            Volatile.Read(ref _emptied)?.TrySetResult();
        }
    }

    /// <summary>Completes when no connection is left, or when <paramref name="timeout"/> passes; true if emptied.</summary>
    public async Task<bool> WaitForEmptyAsync(TimeSpan timeout)
    {
        var emptied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _emptied, emptied);
        if (_live.IsEmpty)
        {
            return true;
        }

        var finished = await Task.WhenAny(emptied.Task, Task.Delay(timeout)).ConfigureAwait(false);
        return finished == emptied.Task || _live.IsEmpty;
    }

    /// <summary>Closes every live connection.</summary>
    public void AbortAll()
    {
        foreach (var connection in _live.Values)
        {
            connection.Abort();
        }
    }

    private void Tick()
    {
        var now = Environment.TickCount64;
        foreach (var connection in _live.Values)
        {
            connection.CheckIdle(now);
        }
    }

    public void Dispose() => _heartbeat.Dispose();
}
