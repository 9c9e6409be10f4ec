using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

public class MaglevPickerTests
{
    [Fact]
    public void Constructor_EqualWeights_SlotCountsDifferByAtMostOne()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(7);
        var picker = new MaglevPicker(endpoints, PickerOptions.Default);

        int[] slots = new int[endpoints.Length];
        foreach (int owner in picker.Table)
        {
            slots[owner]++;
        }

        Assert.Equal(PickerOptions.DefaultMaglevTableSize, picker.Table.Length);
        Assert.InRange(slots.Max() - slots.Min(), 0, 1);
    }

    [Fact]
    public void Constructor_Weights_SlotSharesFollowWeights()
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2, 5);
        var picker = new MaglevPicker(endpoints, PickerOptions.Default);

        int[] slots = new int[endpoints.Length];
        foreach (int owner in picker.Table)
        {
            slots[owner]++;
        }

        Assert.InRange(slots[0] / (double)picker.Table.Length, 0.124, 0.126);
        Assert.InRange(slots[1] / (double)picker.Table.Length, 0.249, 0.251);
    }

    [Theory]
    [InlineData(65536)]
    [InlineData(1)]
    [InlineData(0)]
    public void Constructor_TableSizeNotPrime_Throws(int size) =>
        Assert.Throws<ArgumentOutOfRangeException>(
            () => new MaglevPicker(TestEndpoints.Equal(3), new PickerOptions { MaglevTableSize = size }));

    [Fact]
    public void Constructor_TableSmallerThanEndpoints_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(
            () => new MaglevPicker(TestEndpoints.Equal(12), new PickerOptions { MaglevTableSize = 11 }));

    [Fact]
    public void Pick_SmallPrimeTable_Works()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        var picker = new MaglevPicker(endpoints, new PickerOptions { MaglevTableSize = 13 });

        Assert.Equal(13, picker.Table.Length);
        Assert.All(TestEndpoints.Keys(100), key => Assert.NotNull(picker.Pick(new PickContext(key))));
    }

    [Fact]
    public void Pick_AllButOneUnhealthy_ScansToTheHealthyOne()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(100);
        var picker = new MaglevPicker(endpoints, PickerOptions.Default);
        foreach (Endpoint endpoint in endpoints[..99])
        {
            endpoint.IsHealthy = false;
        }

        Assert.All(TestEndpoints.Keys(1000), key => Assert.Same(endpoints[99], picker.Pick(new PickContext(key))));
    }
}
