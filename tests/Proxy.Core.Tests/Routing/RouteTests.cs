using Proxy.Routing;

namespace Proxy.Tests.Routing;

public class RouteTests
{
    private static Route Split(params (string Cluster, int Weight)[] arms)
    {
        var split = new WeightedClusterDefinition[arms.Length];
        for (int i = 0; i < arms.Length; i++)
        {
            split[i] = new WeightedClusterDefinition(arms[i].Cluster, arms[i].Weight);
        }

        return RouteTable.Build([new RouteDefinition { Split = split }]).Routes[0];
    }

    [Fact]
    public void PickCluster_NinetyTen_ExactShareOverEveryPoint()
    {
        Route route = Split(("api", 90), ("api-canary", 10));
        int api = 0, canary = 0;

        for (uint random = 0; random < 100; random++)
        {
            _ = route.PickCluster(random) == "api" ? api++ : canary++;
        }

        Assert.Equal(90, api);
        Assert.Equal(10, canary);
    }

    [Theory]
    [InlineData(0u, 0)]
    [InlineData(89u, 0)]
    [InlineData(90u, 1)]
    [InlineData(99u, 1)]
    [InlineData(100u, 0)]
    [InlineData(190u, 1)]
    [InlineData(uint.MaxValue, 1)] // 4294967295 % 100 == 95
    public void PickClusterIndex_ScriptedRandom_PointFallsInWeightRange(uint random, int expected)
    {
        Route route = Split(("api", 90), ("api-canary", 10));

        Assert.Equal(expected, route.PickClusterIndex(random));
    }

    [Fact]
    public void PickClusterIndex_ThreeArms_RangesInDefinitionOrder()
    {
        Route route = Split(("a", 1), ("b", 2), ("c", 3));
        var counts = new int[3];

        for (uint random = 0; random < 600; random++)
        {
            counts[route.PickClusterIndex(random)]++;
        }

        Assert.Equal([100, 200, 300], counts);
        Assert.Equal(6u, route.TotalWeight);
    }

    [Fact]
    public void PickClusterIndex_ZeroWeightArm_NeverPicked()
    {
        Route route = Split(("a", 0), ("b", 5), ("c", 0), ("d", 5), ("e", 0));
        var counts = new int[5];

        for (uint random = 0; random < 1000; random++)
        {
            counts[route.PickClusterIndex(random)]++;
        }

        Assert.Equal([0, 500, 0, 500, 0], counts);
    }

    [Fact]
    public void PickCluster_SingleCluster_AlwaysThatCluster()
    {
        Route route = RouteTable.Build([new RouteDefinition { Cluster = "only" }]).Routes[0];

        Assert.Equal("only", route.PickCluster(0));
        Assert.Equal("only", route.PickCluster(uint.MaxValue));
        Assert.Equal(["only"], route.Clusters);
        Assert.Equal([1], route.Weights);
    }

    [Fact]
    public void PickCluster_SplitOfOne_AlwaysThatCluster()
    {
        Route route = Split(("solo", 7));

        Assert.Equal("solo", route.PickCluster(12345));
    }

    [Fact]
    public void PickClusterIndex_LargeTotalWeight_NoOverflow()
    {
        Route route = Split(("a", int.MaxValue - 1), ("b", 1));

        Assert.Equal(0, route.PickClusterIndex(0));
        Assert.Equal(1, route.PickClusterIndex(int.MaxValue - 1));
        Assert.Equal(0, route.PickClusterIndex(int.MaxValue)); // wraps to point 0
    }
}
