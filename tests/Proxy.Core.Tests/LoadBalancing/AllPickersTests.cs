using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

/// <summary>Properties every registered picker must have: health, empty clusters, no allocation, thread safety.</summary>
public class AllPickersTests
{
    public static TheoryData<string> Policies()
    {
        var data = new TheoryData<string>();
        foreach (string name in PickerRegistry.Names)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_NoEndpoints_ReturnsNull(string policy)
    {
        IEndpointPicker picker = PickerRegistry.Create(policy, [], PickerOptions.Default);

        Assert.Null(picker.Pick(PickContext.None));
        Assert.Null(picker.Pick(new PickContext(42)));
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_AllUnhealthy_ReturnsNull(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2, 3, 4);
        IEndpointPicker picker = PickerRegistry.Create(policy, endpoints, new PickerOptions { Random = new SeededRandom(1) });
        foreach (Endpoint endpoint in endpoints)
        {
            endpoint.IsHealthy = false;
        }

        ulong[] keys = TestEndpoints.Keys(200);
        foreach (ulong key in keys)
        {
            Assert.Null(picker.Pick(new PickContext(key)));
            Assert.Null(picker.Pick(PickContext.None));
        }
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_SomeUnhealthy_NeverReturnsThemAndUsesEveryHealthyOne(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2, 3, 4, 5, 6);
        IEndpointPicker picker = PickerRegistry.Create(policy, endpoints, new PickerOptions { Random = new SeededRandom(2) });
        endpoints[1].IsHealthy = false;
        endpoints[4].IsHealthy = false;
        endpoints[5].IsHealthy = false;

        var seen = new HashSet<Endpoint>();
        foreach (ulong key in TestEndpoints.Keys(5000))
        {
            Endpoint? keyed = picker.Pick(new PickContext(key));
            Endpoint? keyless = picker.Pick(PickContext.None);
            Assert.NotNull(keyed);
            Assert.NotNull(keyless);
            Assert.True(keyed.IsHealthy);
            Assert.True(keyless.IsHealthy);
            seen.Add(keyed);
            seen.Add(keyless);
        }

        Assert.Equal([endpoints[0], endpoints[2], endpoints[3]], seen.OrderBy(e => e.Authority));
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_HealthRestored_EndpointReturns(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.Equal(2);
        IEndpointPicker picker = PickerRegistry.Create(policy, endpoints, new PickerOptions { Random = new SeededRandom(3) });
        ulong[] keys = TestEndpoints.Keys(200);
        endpoints[0].IsHealthy = false;
        Assert.All(keys, key => Assert.Same(endpoints[1], picker.Pick(new PickContext(key))));

        endpoints[0].IsHealthy = true;

        Assert.Contains(keys, key => picker.Pick(new PickContext(key)) == endpoints[0]);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_SteadyState_AllocatesNothing(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2, 3, 4, 5);
        endpoints[2].IsHealthy = false;
        IEndpointPicker picker = PickerRegistry.Create(policy, endpoints, PickerOptions.Default);
        var context = new PickContext(0x1234_5678_9abc_def0);
        picker.Pick(context);
        picker.Pick(PickContext.None);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20_000; i++)
        {
            Endpoint endpoint = picker.Pick(i % 2 == 0 ? context : PickContext.None)!;
            endpoint.OnRequestStarted();
            endpoint.OnRequestCompleted(TimeSpan.FromMilliseconds(i % 7));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public async Task Pick_ConcurrentThreads_ReturnsOnlyHealthyEndpointsAndBalancesInFlight(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2, 3, 1, 2, 3, 1, 2);
        endpoints[3].IsHealthy = false;
        IEndpointPicker picker = PickerRegistry.Create(policy, endpoints, PickerOptions.Default);
        const int Threads = 4;
        const int PicksPerThread = 50_000;
        int[] counts = new int[endpoints.Length];
        using var start = new Barrier(Threads);

        Task[] workers = new Task[Threads];
        for (int t = 0; t < Threads; t++)
        {
            ulong seed = (ulong)t;
            workers[t] = Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < PicksPerThread; i++)
                {
                    var context = new PickContext(seed * 1_000_003 + (ulong)i * 0x9E3779B97F4A7C15);
                    Endpoint? endpoint = picker.Pick(context);
                    Assert.NotNull(endpoint);
                    Assert.True(endpoint.IsHealthy);
                    endpoint.OnRequestStarted();
                    Interlocked.Increment(ref counts[Array.IndexOf(endpoints, endpoint)]);
                    endpoint.OnRequestCompleted(TimeSpan.FromMilliseconds(1 + i % 5));
                }
            }, TaskCreationOptions.LongRunning);
        }

        await Task.WhenAll(workers);

        Assert.Equal(Threads * PicksPerThread, counts.Sum());
        Assert.Equal(0, counts[3]);
        Assert.All(endpoints, endpoint => Assert.Equal(0, endpoint.InFlight));
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.All(endpoints.Where(e => e.IsHealthy), endpoint => Assert.InRange(endpoint.LatencyEstimateMs(now), 1, 5));
    }
}
