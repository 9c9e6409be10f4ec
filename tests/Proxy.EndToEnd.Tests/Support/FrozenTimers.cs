namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// The system's clock, with timers that never fire: what a timer looks like from the request's side when its callback
/// is late, on a machine too busy to run it. Whatever the proxy decides by the clock alone then shows.
/// </summary>
public sealed class FrozenTimers : TimeProvider
{
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverFires();

    private sealed class NeverFires : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
