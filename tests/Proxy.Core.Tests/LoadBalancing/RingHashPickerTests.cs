using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

public class RingHashPickerTests
{
    [Fact]
    public void Constructor_Weights_VirtualNodesProportional()
    {
        var picker = new RingHashPicker(TestEndpoints.WithWeights(100, 300), PickerOptions.Default);

        // Weights reduce to 1 and 3 by their common divisor.
        Assert.Equal(4 * PickerOptions.DefaultRingNodesPerWeight, picker.RingLength);
    }

    [Fact]
    public void Constructor_RingOverMaxSize_ScaledDownAndTinyWeightKeepsANode()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 1_000_000);
        var picker = new RingHashPicker(endpoints, new PickerOptions { MaxRingSize = 100 });

        Assert.Equal(101, picker.RingLength);
    }

    [Fact]
    public void Constructor_ZeroNodesPerWeight_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingHashPicker(TestEndpoints.Equal(2), new PickerOptions { RingNodesPerWeight = 0 }));

    [Fact]
    public void Pick_AllButOneUnhealthy_WalksPastManyNodes()
    {
        // With 64 endpoints, most keys must walk past more nodes than the pre-check threshold.
        Endpoint[] endpoints = TestEndpoints.Equal(64);
        var picker = new RingHashPicker(endpoints, new PickerOptions { RingNodesPerWeight = 200 });
        foreach (Endpoint endpoint in endpoints[1..])
        {
            endpoint.IsHealthy = false;
        }

        Assert.All(TestEndpoints.Keys(1000), key => Assert.Same(endpoints[0], picker.Pick(new PickContext(key))));
    }
}
