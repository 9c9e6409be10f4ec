using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

public class RoundRobinPickerTests
{
    private static string Sequence(IEndpointPicker picker, Endpoint[] endpoints, int picks)
    {
        var letters = new char[picks];
        for (int i = 0; i < picks; i++)
        {
            letters[i] = (char)('a' + Array.IndexOf(endpoints, picker.Pick(PickContext.None)));
        }

        return new string(letters);
    }

    [Fact]
    public void Pick_EqualWeights_CyclesInOrder()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        var picker = new RoundRobinPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0) });

        Assert.Equal("abcabcabca", Sequence(picker, endpoints, 10));
    }

    [Fact]
    public void Pick_RandomStart_BeginsAtScriptedSlot()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        var picker = new RoundRobinPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(2) });

        Assert.Equal("cabcab", Sequence(picker, endpoints, 6));
    }

    [Fact]
    public void Pick_Weights511_FollowsNginxSmoothOrder()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(5, 1, 1);
        var picker = new RoundRobinPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0) });

        // The sequence ngx_http_upstream_get_peer produces for weights 5, 1, 1.
        Assert.Equal("aabacaa" + "aabacaa", Sequence(picker, endpoints, 14));
    }

    [Fact]
    public void Pick_Weights123_ExactCountsPerCycle()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2, 3);
        var picker = new RoundRobinPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(4) });

        Dictionary<Endpoint, int> counts = TestEndpoints.Tally(picker, 600);

        Assert.Equal(100, counts[endpoints[0]]);
        Assert.Equal(200, counts[endpoints[1]]);
        Assert.Equal(300, counts[endpoints[2]]);
    }

    [Fact]
    public void Constructor_CommonDivisor_ReducesSchedule()
    {
        var picker = new RoundRobinPicker(TestEndpoints.WithWeights(100, 200, 300), PickerOptions.Default);

        Assert.Equal(6, picker.Schedule.Length);
    }

    [Fact]
    public void Constructor_HugeWeights_ScheduleBoundedAndProportional()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1_000_000, 3_000_001, 1);
        var picker = new RoundRobinPicker(endpoints, PickerOptions.Default);

        ReadOnlySpan<int> schedule = picker.Schedule;
        Assert.InRange(schedule.Length, 1, RoundRobinPicker.MaxScheduleLength + endpoints.Length);
        int first = 0, second = 0, third = 0;
        foreach (int index in schedule)
        {
            first += index == 0 ? 1 : 0;
            second += index == 1 ? 1 : 0;
            third += index == 2 ? 1 : 0;
        }

        Assert.Equal(1, third);
        Assert.InRange((double)second / first, 2.99, 3.01);
    }

    [Fact]
    public void Pick_UnhealthyEndpoint_SkippedAndOthersShareEvenly()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(4);
        var picker = new RoundRobinPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0) });
        endpoints[1].IsHealthy = false;

        Dictionary<Endpoint, int> counts = TestEndpoints.Tally(picker, 4000);

        Assert.False(counts.ContainsKey(endpoints[1]));
        Assert.InRange(counts[endpoints[0]], 1000, 2000);
        Assert.InRange(counts[endpoints[2]], 1000, 2000);
        Assert.InRange(counts[endpoints[3]], 1000, 2000);
    }

    [Fact]
    public void Pick_HeavyEndpointUnhealthy_SlowPathSharesByWeight()
    {
        // The 100-weight endpoint fills long runs of the schedule, longer than the probe limit.
        Endpoint[] endpoints = TestEndpoints.WithWeights(100, 1, 3);
        var picker = new RoundRobinPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0) });
        endpoints[0].IsHealthy = false;

        Dictionary<Endpoint, int> counts = TestEndpoints.Tally(picker, 10_400);

        Assert.False(counts.ContainsKey(endpoints[0]));
        Assert.InRange((double)counts[endpoints[2]] / counts[endpoints[1]], 2.5, 3.5);
    }

    [Fact]
    public async Task Pick_ConcurrentThreads_ExactlyEqualShares()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        var picker = new RoundRobinPicker(endpoints, PickerOptions.Default);
        int[] counts = new int[3];

        // Each Interlocked ticket is a distinct slot, so 4 x 30000 picks are exactly 40000 each.
        Task[] workers = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < 30_000; i++)
            {
                Interlocked.Increment(ref counts[Array.IndexOf(endpoints, picker.Pick(PickContext.None))]);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal([40_000, 40_000, 40_000], counts);
    }
}
