namespace Proxy.LoadTests.Load;

/// <summary>
/// When each request of an open-model run is meant to start, as an offset from the run's start.
/// Finite: every schedule ends, so a run is bounded in request count and in time.
/// </summary>
public interface IArrivalSchedule
{
    /// <summary>The total scheduled time.</summary>
    TimeSpan Duration { get; }

    /// <summary>The intended start of request <paramref name="index"/>; false once the schedule is over.</summary>
    bool TryGetOffset(long index, out TimeSpan offset);
}
