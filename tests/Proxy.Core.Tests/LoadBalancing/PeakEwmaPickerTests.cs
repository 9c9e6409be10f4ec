using System.Diagnostics;
using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

public class PeakEwmaPickerTests
{
    /// <summary>
    /// Simulates <paramref name="milliseconds"/> of scripted time: each millisecond one request is picked
    /// and started, and every request completes after its endpoint's latency, so requests overlap and
    /// in-flight counts matter as they do in production. Returns the requests started per endpoint.
    /// </summary>
    private static int[] Drive(
        IEndpointPicker picker, Endpoint[] endpoints, double[] latencyMs, ManualClock clock,
        PriorityQueue<Endpoint, long> inFlight, int milliseconds)
    {
        int[] counts = new int[endpoints.Length];
        for (int ms = 0; ms < milliseconds; ms++)
        {
            Endpoint endpoint = picker.Pick(PickContext.None)!;
            int index = Array.IndexOf(endpoints, endpoint);
            counts[index]++;
            endpoint.OnRequestStarted();
            inFlight.Enqueue(endpoint, clock.Ticks + (long)(latencyMs[index] * Stopwatch.Frequency / 1000));

            clock.Advance(TimeSpan.FromMilliseconds(1));
            CompleteDue(endpoints, latencyMs, clock, inFlight);
        }

        return counts;
    }

    private static void CompleteDue(Endpoint[] endpoints, double[] latencyMs, ManualClock clock, PriorityQueue<Endpoint, long> inFlight)
    {
        while (inFlight.TryPeek(out Endpoint? done, out long due) && due <= clock.Ticks)
        {
            inFlight.Dequeue();
            done.OnRequestCompleted(TimeSpan.FromMilliseconds(latencyMs[Array.IndexOf(endpoints, done)]), clock.Ticks);
        }
    }

    [Fact]
    public void Pick_ScriptedPair_LowerCostWins()
    {
        var clock = new ManualClock();
        Endpoint[] endpoints = TestEndpoints.Equal(2);
        endpoints[0].OnRequestStarted();
        endpoints[0].OnRequestCompleted(TimeSpan.FromMilliseconds(50), clock.Ticks);
        endpoints[1].OnRequestStarted();
        endpoints[1].OnRequestCompleted(TimeSpan.FromMilliseconds(20), clock.Ticks);
        var picker = new PeakEwmaPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0, 0), Clock = clock.Read });

        Assert.Same(endpoints[1], picker.Pick(PickContext.None));

        // 20 ms x (2 in flight + 1) = 60 > 50 ms x 1: now the first endpoint is cheaper.
        endpoints[1].OnRequestStarted();
        endpoints[1].OnRequestStarted();
        Assert.Same(endpoints[0], picker.Pick(PickContext.None));
    }

    [Fact]
    public void Pick_NewEndpoints_CostDefaultLatency()
    {
        var clock = new ManualClock();
        Endpoint[] endpoints = TestEndpoints.Equal(2);
        endpoints[0].OnRequestStarted();
        endpoints[0].OnRequestCompleted(TimeSpan.FromMilliseconds(Endpoint.DefaultLatencyEstimateMs + 5), clock.Ticks);
        var picker = new PeakEwmaPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0, 0), Clock = clock.Read });

        Assert.Same(endpoints[1], picker.Pick(PickContext.None));
    }

    [Fact]
    public void Pick_OneEndpointTurnsSlow_TrafficMovesAwayAndReturnsAfterDecay()
    {
        var clock = new ManualClock();
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        var picker = new PeakEwmaPicker(endpoints, new PickerOptions { Random = new SeededRandom(21), Clock = clock.Read });
        var inFlight = new PriorityQueue<Endpoint, long>();

        // All equally fast: a roughly even split.
        int[] even = Drive(picker, endpoints, [10, 10, 10], clock, inFlight, 3000);
        Assert.All(even, count => Assert.InRange(count, 700, 1300));

        // The third turns slow: once its first slow response is back it is the most expensive, and
        // stays so while its estimate decays, so it gets almost nothing.
        double[] slow = [10, 10, 200];
        int[] afterSlowdown = Drive(picker, endpoints, slow, clock, inFlight, 5000);
        Assert.InRange(afterSlowdown[2], 0, 5000 / 20);
        Assert.InRange(afterSlowdown[0], 2000, 2600);

        // Left alone for a minute, its estimate decays to the floor, so it is tried again and, being
        // fast once more, takes its share back.
        clock.Advance(TimeSpan.FromSeconds(60));
        CompleteDue(endpoints, slow, clock, inFlight);
        int[] recovered = Drive(picker, endpoints, [10, 10, 10], clock, inFlight, 3000);
        Assert.InRange(recovered[2], 700, 1300);
    }

    [Fact]
    public void Pick_Weights_HeavierEndpointPreferredAtEqualLatency()
    {
        var clock = new ManualClock();
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 4);
        var picker = new PeakEwmaPicker(endpoints, new PickerOptions { Random = new SeededRandom(22), Clock = clock.Read });

        int[] counts = Drive(picker, endpoints, [10, 10], clock, new PriorityQueue<Endpoint, long>(), 5000);

        Assert.True(counts[1] > 3 * counts[0], $"{counts[0]} vs {counts[1]}");
    }

    [Fact]
    public void Pick_UntriedEndpoint_TriedOnceDefaultPriorDecays()
    {
        // Two endpoints answer in 10 ms; the third, never tried, costs the 30 ms default. With requests
        // strictly one at a time (no in-flight overlap), only the prior's decay gets it tried.
        var clock = new ManualClock();
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        endpoints[0].OnRequestStarted();
        endpoints[0].OnRequestCompleted(TimeSpan.FromMilliseconds(10), clock.Ticks);
        endpoints[1].OnRequestStarted();
        endpoints[1].OnRequestCompleted(TimeSpan.FromMilliseconds(10), clock.Ticks);
        var picker = new PeakEwmaPicker(endpoints, new PickerOptions { Random = new SeededRandom(23), Clock = clock.Read });
        int firstPickOfThird = -1;
        for (int ms = 0; ms < 20_000 && firstPickOfThird < 0; ms++)
        {
            Endpoint endpoint = picker.Pick(PickContext.None)!;
            if (endpoint == endpoints[2])
            {
                firstPickOfThird = ms;
            }

            endpoint.OnRequestStarted();
            clock.Advance(TimeSpan.FromMilliseconds(1));
            endpoint.OnRequestCompleted(TimeSpan.FromMilliseconds(10), clock.Ticks);
        }

        // 30·e^(-t/10 s) falls below 10 after about 11 s.
        Assert.InRange(firstPickOfThird, 10_000, 12_000);
    }
}
