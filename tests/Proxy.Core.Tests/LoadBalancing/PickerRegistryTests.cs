using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

public class PickerRegistryTests
{
    [Fact]
    public void Names_BuiltIns_ListsTheSixConfigNames() =>
        Assert.Equal(
            ["round_robin", "random", "least_request", "peak_ewma", "ring_hash", "maglev"],
            PickerRegistry.Names);

    [Fact]
    public void TryGetFactory_EveryName_ReturnsFactoryOfThatName()
    {
        foreach (string name in PickerRegistry.Names)
        {
            Assert.True(PickerRegistry.TryGetFactory(name, out IEndpointPickerFactory? factory));
            Assert.Equal(name, factory.Name);
        }
    }

    [Theory]
    [InlineData("roundrobin")]
    [InlineData("Round_Robin")]
    [InlineData("")]
    [InlineData("least_requests")]
    public void TryGetFactory_UnknownOrMiscased_ReturnsFalse(string name) =>
        Assert.False(PickerRegistry.TryGetFactory(name, out _));

    [Fact]
    public void Create_UnknownName_ThrowsListingValidNames()
    {
        var error = Assert.Throws<ArgumentException>(
            () => PickerRegistry.Create("fastest", TestEndpoints.Equal(2), PickerOptions.Default));
        Assert.Contains("'fastest'", error.Message);
        Assert.Contains("peak_ewma", error.Message);
    }

    [Fact]
    public void DefaultName_IsRegistered() =>
        Assert.True(PickerRegistry.TryGetFactory(PickerRegistry.DefaultName, out _));

    [Fact]
    public void Create_EveryName_BuildsPickerOfMatchingType()
    {
        Endpoint[] endpoints = TestEndpoints.Equal(3);
        Assert.IsType<RoundRobinPicker>(PickerRegistry.Create("round_robin", endpoints, PickerOptions.Default));
        Assert.IsType<RandomPicker>(PickerRegistry.Create("random", endpoints, PickerOptions.Default));
        Assert.IsType<LeastRequestPicker>(PickerRegistry.Create("least_request", endpoints, PickerOptions.Default));
        Assert.IsType<PeakEwmaPicker>(PickerRegistry.Create("peak_ewma", endpoints, PickerOptions.Default));
        Assert.IsType<RingHashPicker>(PickerRegistry.Create("ring_hash", endpoints, PickerOptions.Default));
        Assert.IsType<MaglevPicker>(PickerRegistry.Create("maglev", endpoints, PickerOptions.Default));
    }
}
