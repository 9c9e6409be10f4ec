using System.Diagnostics;

namespace Proxy.Tests.LoadBalancing;

/// <summary>Scripted time in Stopwatch ticks, for <c>PickerOptions.Clock</c> and <c>Endpoint.OnRequestCompleted</c>.</summary>
internal sealed class ManualClock
{
    // Start far from zero so that elapsed-time arithmetic is exercised on ordinary values.
    public long Ticks { get; private set; } = Stopwatch.Frequency * 1000;

    public long Read() => Ticks;

    public void Advance(TimeSpan by) => Ticks += (long)(by.TotalSeconds * Stopwatch.Frequency);
}
