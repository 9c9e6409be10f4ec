using Proxy.LoadBalancing;

namespace Proxy.Tests.LoadBalancing;

public class SharedRandomSourceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void Next_ManyDraws_UniformWithinBounds(int max)
    {
        int[] counts = new int[max];
        for (int i = 0; i < 70_000; i++)
        {
            counts[SharedRandomSource.Instance.Next(max)]++;
        }

        Assert.All(counts, count => Assert.InRange(count, 70_000 / max * 0.95, 70_000 / max * 1.05));
    }

    [Fact]
    public void NextUInt64_ManyDraws_UsesTheHighBitHalfTheTime()
    {
        int high = 0;
        for (int i = 0; i < 20_000; i++)
        {
            high += SharedRandomSource.Instance.NextUInt64() >> 63 == 1 ? 1 : 0;
        }

        Assert.InRange(high, 9_500, 10_500);
    }

    [Fact]
    public void Next_ZeroBound_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedRandomSource.Instance.Next(0));
}
