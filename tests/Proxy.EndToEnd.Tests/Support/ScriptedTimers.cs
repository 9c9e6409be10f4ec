namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// The system's clock and timers, with one addition: <see cref="RunCallbacksNow"/> runs the callback of every timer
/// made so far at a moment the test chooses. That is what a timer callback already on its way does when it runs late:
/// a <see cref="Timer"/> whose due time passed has queued its callback, and neither <c>Change</c> nor
/// <c>Dispose</c> stops it; on a busy machine it may run after the wait it was meant for ended and the next began.
/// </summary>
public sealed class ScriptedTimers : TimeProvider
{
    private readonly List<(TimerCallback Callback, object? State)> _timers = [];

    /// <summary>Timers made so far.</summary>
    public int Count
    {
        get
        {
            lock (_timers)
            {
                return _timers.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_timers)
        {
            _timers.Add((callback, state));
        }

        return System.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Runs every timer's callback now, on a thread-pool thread as a timer would, and waits for them.</summary>
    public Task RunCallbacksNow()
    {
        (TimerCallback Callback, object? State)[] timers;
        lock (_timers)
        {
            timers = [.. _timers];
        }

        return Task.Run(() =>
        {
            foreach (var (callback, state) in timers)
            {
                callback(state);
            }
        });
    }
}
