using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

public class LeastRequestPickerTests
{
    private static void Load(Endpoint endpoint, int requests)
    {
        for (int i = 0; i < requests; i++)
        {
            endpoint.OnRequestStarted();
        }
    }

    [Fact]
    public void Pick_ScriptedPair_LessLoadedWins()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        Load(endpoints[0], 5);
        Load(endpoints[2], 1);
        // Draws: first = 0; second from the two others: 1 -> endpoint 2.
        var picker = new LeastRequestPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0, 1) });

        Assert.Same(endpoints[2], picker.Pick(PickContext.None));
    }

    [Fact]
    public void Pick_EqualLoad_FirstCandidateWins()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        var picker = new LeastRequestPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(2, 0) });

        Assert.Same(endpoints[2], picker.Pick(PickContext.None));
    }

    [Fact]
    public void Pick_TwoBusyOneIdle_IdleGetsTwoThirds()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        Load(endpoints[0], 5);
        Load(endpoints[1], 5);
        var picker = new LeastRequestPicker(endpoints, new PickerOptions { Random = new SeededRandom(11) });

        Dictionary<Endpoint, int> counts = TestEndpoints.Tally(picker, 30_000);

        // The idle endpoint loses only when the pair is {busy, busy}: 1 pair in 3.
        Assert.InRange(counts[endpoints[2]] / 30_000.0, 0.64, 0.69);
        Assert.InRange(counts[endpoints[0]] / 30_000.0, 0.14, 0.19);
    }

    [Fact]
    public void Pick_InFlightPerWeight_HeavierEndpointCarriesMore()
    {
        // b has twice the weight, so 2 in flight on b weighs the same as 1 on a: a tie, first wins.
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2);
        Load(endpoints[0], 1);
        Load(endpoints[1], 2);
        // Weighted draw over total 3: 0 -> a, 1..2 -> b.
        var tie = new LeastRequestPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0, 1) });
        Assert.Same(endpoints[0], tie.Pick(PickContext.None));

        Load(endpoints[0], 1);
        var lighter = new LeastRequestPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0, 1) });
        Assert.Same(endpoints[1], lighter.Pick(PickContext.None));
    }

    [Fact]
    public void Pick_IdleCluster_SharesFollowWeights()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 3);
        var picker = new LeastRequestPicker(endpoints, new PickerOptions { Random = new SeededRandom(12) });

        Dictionary<Endpoint, int> counts = TestEndpoints.Tally(picker, 40_000);

        Assert.InRange(counts[endpoints[0]] / 40_000.0, 0.23, 0.27);
    }

    [Fact]
    public void Pick_ConcurrentRequestsHeld_InFlightStaysBalanced()
    {
        // Requests that never complete: P2C keeps the spread of in-flight counts small.
        Endpoint[] endpoints = TestEndpoints.Equal(10);
        var picker = new LeastRequestPicker(endpoints, new PickerOptions { Random = new SeededRandom(13) });

        for (int i = 0; i < 10_000; i++)
        {
            picker.Pick(PickContext.None)!.OnRequestStarted();
        }

        int min = endpoints.Min(e => e.InFlight);
        int max = endpoints.Max(e => e.InFlight);
        Assert.InRange(max - min, 0, 10);
    }
}
