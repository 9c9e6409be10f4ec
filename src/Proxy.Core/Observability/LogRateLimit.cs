namespace Proxy.Observability;

/// <summary>
/// At most <c>burst</c> log lines per interval for one source (an endpoint, a cluster), lock-free and allocation-free:
/// a flood of the same failure costs two interlocked operations per event, not a formatted line, and cannot fill
/// the disk. Events refused are counted, and the next line allowed reports how many were left out.
/// </summary>
public sealed class LogRateLimit
{
    private readonly int _burst;
    private readonly long _intervalMs;
    private long _windowStart = long.MinValue / 2; // far enough back that the first event opens a window, without overflow
    private int _used;
    private int _suppressed;

    public LogRateLimit(int burst, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _burst = burst;
        _intervalMs = (long)interval.TotalMilliseconds;
    }

    /// <summary>
    /// True when a line may be written now; <paramref name="suppressed"/> is then the number of events refused since
    /// the last line allowed. False (the event counted as suppressed) otherwise.
    /// </summary>
    public bool TryAcquire(long nowMs, out int suppressed)
    {
        var start = Volatile.Read(ref _windowStart);
        if (nowMs - start >= _intervalMs && Interlocked.CompareExchange(ref _windowStart, nowMs, start) == start)
        {
            // One caller opens the new window; the others count into it.
            Volatile.Write(ref _used, 0);
        }

        if (Interlocked.Increment(ref _used) <= _burst)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
