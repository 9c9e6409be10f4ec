using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

public class RandomPickerTests
{
    [Fact]
    public void Pick_ScriptedDraws_MapThroughCumulativeWeights()
    {
        // Weights 1, 3: draw 0 belongs to a, draws 1-3 to b.
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 3);
        var picker = new RandomPicker(endpoints, new PickerOptions { Random = new ScriptedRandom(0, 1, 2, 3) });

        Assert.Same(endpoints[0], picker.Pick(PickContext.None));
        Assert.Same(endpoints[1], picker.Pick(PickContext.None));
        Assert.Same(endpoints[1], picker.Pick(PickContext.None));
        Assert.Same(endpoints[1], picker.Pick(PickContext.None));
    }

    [Fact]
    public void Pick_ManyPicks_SharesFollowWeights()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 3, 6);
        var picker = new RandomPicker(endpoints, new PickerOptions { Random = new SeededRandom(7) });

        Dictionary<Endpoint, int> counts = TestEndpoints.Tally(picker, 100_000);

        Assert.InRange(counts[endpoints[0]] / 100_000.0, 0.09, 0.11);
        Assert.InRange(counts[endpoints[1]] / 100_000.0, 0.28, 0.32);
        Assert.InRange(counts[endpoints[2]] / 100_000.0, 0.58, 0.62);
    }

    [Fact]
    public void Pick_UnhealthyEndpoint_RemainingSharesKeepTheirRatio()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 3, 6);
        var picker = new RandomPicker(endpoints, new PickerOptions { Random = new SeededRandom(8) });
        endpoints[2].IsHealthy = false;

        Dictionary<Endpoint, int> counts = TestEndpoints.Tally(picker, 40_000);

        Assert.False(counts.ContainsKey(endpoints[2]));
        Assert.InRange(counts[endpoints[0]] / 40_000.0, 0.23, 0.27);
    }
}
