namespace Proxy.LoadTests.Load;

/// <summary>A fixed request rate for a fixed time: request i is due at i / rate.</summary>
public sealed class ConstantRateSchedule(double requestsPerSecond, TimeSpan duration) : IArrivalSchedule
{
    private readonly long _count = (long)Math.Floor(requestsPerSecond * duration.TotalSeconds);

    /// <inheritdoc />
    public TimeSpan Duration => duration;

    /// <inheritdoc />
    public bool TryGetOffset(long index, out TimeSpan offset)
    {
        offset = TimeSpan.FromSeconds(index / requestsPerSecond);
        return index < _count;
    }
}
