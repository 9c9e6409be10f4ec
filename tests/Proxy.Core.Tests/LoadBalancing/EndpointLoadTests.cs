using System.Diagnostics;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

/// <summary>The load state in Endpoint.Load.cs that the pickers read: in-flight count and latency estimate.</summary>
public class EndpointLoadTests
{
    private static readonly TimeSpan Tau = TimeSpan.FromMilliseconds(Endpoint.LatencyDecayMs);

    private static void Complete(Endpoint endpoint, double latencyMs, ManualClock clock)
    {
        endpoint.OnRequestStarted();
        endpoint.OnRequestCompleted(TimeSpan.FromMilliseconds(latencyMs), clock.Ticks);
    }

    [Fact]
    public void InFlight_StartedAndCompleted_Counts()
    {
        Endpoint endpoint = TestEndpoints.Create(0);
        endpoint.OnRequestStarted();
        endpoint.OnRequestStarted();
        endpoint.OnRequestCompleted(TimeSpan.FromMilliseconds(3));

        Assert.Equal(1, endpoint.InFlight);
    }

    [Fact]
    public void OnRequestCompletedSince_MeasuresFromTheStartTimestamp()
    {
        Endpoint endpoint = TestEndpoints.Create(0);
        endpoint.OnRequestStarted();
        long started = Stopwatch.GetTimestamp() - Stopwatch.Frequency / 20; // 50 ms ago

        endpoint.OnRequestCompletedSince(started);

        Assert.Equal(0, endpoint.InFlight);
        Assert.True(endpoint.HasLatencySample);
        Assert.InRange(endpoint.LatencyEstimateMs(Stopwatch.GetTimestamp()), 40, 5000);
    }

    [Fact]
    public void LatencyEstimateMs_NoSample_IsDefault()
    {
        Endpoint endpoint = TestEndpoints.Create(0);

        Assert.False(endpoint.HasLatencySample);
        Assert.Equal(Endpoint.DefaultLatencyEstimateMs, endpoint.LatencyEstimateMs(Stopwatch.GetTimestamp()));
    }

    [Fact]
    public void LatencyEstimateMs_FirstSample_BecomesEstimate()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);

        Complete(endpoint, 12, clock);

        Assert.True(endpoint.HasLatencySample);
        Assert.Equal(12, endpoint.LatencyEstimateMs(clock.Ticks), 3);
    }

    [Fact]
    public void LatencyEstimateMs_DefaultPriorRead_DecaysAndFirstSampleReplacesIt()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Assert.Equal(Endpoint.DefaultLatencyEstimateMs, endpoint.LatencyEstimateMs(clock.Ticks));

        clock.Advance(Tau);
        Assert.False(endpoint.HasLatencySample);
        Assert.Equal(Endpoint.DefaultLatencyEstimateMs * Math.Exp(-1), endpoint.LatencyEstimateMs(clock.Ticks), 3);

        // A measurement, even a lower one in the same millisecond, replaces the prior outright.
        Complete(endpoint, 2, clock);
        Assert.True(endpoint.HasLatencySample);
        Assert.Equal(2, endpoint.LatencyEstimateMs(clock.Ticks), 3);
    }

    [Fact]
    public void LatencyEstimateMs_HigherSample_ReplacesAtOnce()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Complete(endpoint, 10, clock);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Complete(endpoint, 250, clock);

        Assert.Equal(250, endpoint.LatencyEstimateMs(clock.Ticks), 3);
    }

    [Fact]
    public void LatencyEstimateMs_LowerSampleOneTimeConstantLater_BlendsByElapsedTime()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Complete(endpoint, 100, clock);
        clock.Advance(Tau);

        Complete(endpoint, 20, clock);

        // 100·e^-1 + 20·(1 - e^-1)
        Assert.Equal(100 * Math.Exp(-1) + 20 * (1 - Math.Exp(-1)), endpoint.LatencyEstimateMs(clock.Ticks), 3);
    }

    [Fact]
    public void LatencyEstimateMs_LowerSamplesEveryMillisecond_ConvergeTowardsThem()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Complete(endpoint, 100, clock);

        for (int i = 0; i < 30_000; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Complete(endpoint, 20, clock);
        }

        // After three time constants: 20 + 80·e^-3.
        Assert.Equal(20 + 80 * Math.Exp(-3), endpoint.LatencyEstimateMs(clock.Ticks), 1);
    }

    [Fact]
    public void LatencyEstimateMs_LowerSampleInSameMillisecond_Ignored()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Complete(endpoint, 100, clock);

        Complete(endpoint, 1, clock);

        Assert.Equal(100, endpoint.LatencyEstimateMs(clock.Ticks), 3);
    }

    [Fact]
    public void LatencyEstimateMs_NoSamplesForAWhile_DecaysTowardsZeroWithFloor()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Complete(endpoint, 100, clock);

        clock.Advance(Tau);
        Assert.Equal(100 * Math.Exp(-1), endpoint.LatencyEstimateMs(clock.Ticks), 3);

        clock.Advance(Tau * 9);
        Assert.Equal(Endpoint.MinLatencyEstimateMs, endpoint.LatencyEstimateMs(clock.Ticks));
    }

    [Fact]
    public void LatencyEstimateMs_IdleForDays_StaysAtFloorAcrossClockWrap()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Complete(endpoint, 100, clock);

        // Read every 12 hours for 60 days: past the 49.7-day wrap of the packed millisecond stamp.
        for (int day = 0; day < 120; day++)
        {
            clock.Advance(TimeSpan.FromHours(12));
            Assert.Equal(Endpoint.MinLatencyEstimateMs, endpoint.LatencyEstimateMs(clock.Ticks));
        }

        clock.Advance(TimeSpan.FromMilliseconds(5));
        Complete(endpoint, 40, clock);
        Assert.Equal(40, endpoint.LatencyEstimateMs(clock.Ticks), 3);
    }

    [Fact]
    public void OnRequestCompleted_ClockReadOutOfOrder_TreatedAsNoElapsedTime()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);
        Complete(endpoint, 100, clock);
        long later = clock.Ticks;
        clock.Advance(TimeSpan.FromMilliseconds(-5));

        // A lower sample stamped before the last update carries no weight (not 49 days' worth).
        Complete(endpoint, 10, clock);

        Assert.Equal(100, endpoint.LatencyEstimateMs(later), 3);
    }

    [Fact]
    public void OnRequestCompleted_InvalidLatency_ClampedToPositive()
    {
        var clock = new ManualClock();
        Endpoint endpoint = TestEndpoints.Create(0);

        Complete(endpoint, -5, clock);

        Assert.True(endpoint.HasLatencySample);
        Assert.Equal(Endpoint.MinLatencyEstimateMs, endpoint.LatencyEstimateMs(clock.Ticks));
    }

    [Fact]
    public async Task OnRequestCompleted_ConcurrentWriters_EstimateStaysWithinSampleRange()
    {
        Endpoint endpoint = TestEndpoints.Create(0);

        Task[] writers = Enumerable.Range(0, 4).Select(t => Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                endpoint.OnRequestStarted();
                endpoint.OnRequestCompleted(TimeSpan.FromMilliseconds(10 + (i * 7 + t) % 41));
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(writers);

        Assert.Equal(0, endpoint.InFlight);
        Assert.InRange(endpoint.LatencyEstimateMs(Stopwatch.GetTimestamp()), 10, 50);
    }
}
