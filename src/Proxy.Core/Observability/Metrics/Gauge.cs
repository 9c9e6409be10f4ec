namespace Proxy.Observability.Metrics;

/// <summary>A value that goes up and down for one label set; lock-free.</summary>
public sealed class Gauge
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Decrement() => Interlocked.Decrement(ref _value);

    public void Add(long amount) => Interlocked.Add(ref _value, amount);

    public void Set(long value) => Interlocked.Exchange(ref _value, value);
}
