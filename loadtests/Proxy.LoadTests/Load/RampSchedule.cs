namespace Proxy.LoadTests.Load;

/// <summary>
/// A rate rising (or falling) linearly from <c>from</c> to <c>to</c> requests per second over the
/// duration. Request i is due when the integral of the rate reaches i:
/// from*t + (to-from)*t^2/(2D) = i, solved for t.
/// </summary>
public sealed class RampSchedule : IArrivalSchedule
{
    private readonly double _from;
    private readonly double _slope;
    private readonly long _count;
    private readonly TimeSpan _duration;

    /// <summary>A ramp from <paramref name="from"/> to <paramref name="to"/> requests per second.</summary>
    public RampSchedule(double from, double to, TimeSpan duration)
    {
        _from = from;
        _duration = duration;
        double seconds = duration.TotalSeconds;
        _slope = (to - from) / seconds;
        _count = (long)Math.Floor((from + to) / 2 * seconds);
    }

    /// <inheritdoc />
    public TimeSpan Duration => _duration;

    /// <inheritdoc />
    public bool TryGetOffset(long index, out TimeSpan offset)
    {
        double t;
        if (Math.Abs(_slope) < 1e-9)
        {
            t = index / _from;
        }
        else
        {
            // (slope/2) t^2 + from t - i = 0, the positive root.
            double disc = (_from * _from) + (2 * _slope * index);
            t = (-_from + Math.Sqrt(Math.Max(0, disc))) / _slope;
        }

        offset = TimeSpan.FromSeconds(Math.Min(t, _duration.TotalSeconds));
        return index < _count;
    }
}
