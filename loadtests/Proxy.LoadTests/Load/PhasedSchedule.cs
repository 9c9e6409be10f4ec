namespace Proxy.LoadTests.Load;

/// <summary>Constant-rate phases one after another (e.g. base rate, 5x spike, base rate).</summary>
public sealed class PhasedSchedule : IArrivalSchedule
{
    private readonly (double Rate, TimeSpan Duration)[] _phases;
    private readonly long[] _firstIndex;
    private readonly TimeSpan[] _start;
    private readonly long _count;

    /// <summary>The phases in order, each a rate in requests per second and a duration.</summary>
    public PhasedSchedule(params (double Rate, TimeSpan Duration)[] phases)
    {
        _phases = phases;
        _firstIndex = new long[phases.Length];
        _start = new TimeSpan[phases.Length];
        long index = 0;
        var start = TimeSpan.Zero;
        for (int i = 0; i < phases.Length; i++)
        {
            _firstIndex[i] = index;
            _start[i] = start;
            index += (long)Math.Floor(phases[i].Rate * phases[i].Duration.TotalSeconds);
            start += phases[i].Duration;
        }

        _count = index;
        Duration = start;
    }

    /// <inheritdoc />
    public TimeSpan Duration { get; }

    /// <summary>The start offset of phase <paramref name="phase"/>.</summary>
    public TimeSpan PhaseStart(int phase) => _start[phase];

    /// <inheritdoc />
    public bool TryGetOffset(long index, out TimeSpan offset)
    {
        offset = Duration;
        if (index >= _count)
        {
            return false;
        }

        int p = _phases.Length - 1;
        while (_firstIndex[p] > index)
        {
            p--;
        }

        offset = _start[p] + TimeSpan.FromSeconds((index - _firstIndex[p]) / _phases[p].Rate);
        return true;
    }
}
