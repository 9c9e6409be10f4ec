using Proxy.Observability;

namespace Proxy.Tests.Observability;

public class LogRateLimitTests
{
    [Fact]
    public void TryAcquire_BurstThenRefused_NextWindowReportsTheRefused()
    {
        var limit = new LogRateLimit(2, TimeSpan.FromSeconds(10));

        Assert.True(limit.TryAcquire(1_000, out var first));
        Assert.True(limit.TryAcquire(1_001, out _));
        Assert.False(limit.TryAcquire(1_002, out _));
        Assert.False(limit.TryAcquire(5_000, out _));
        Assert.True(limit.TryAcquire(11_000, out var suppressed));

        Assert.Equal(0, first);
        Assert.Equal(2, suppressed);
    }

    [Fact]
    public void TryAcquire_Refused_AllocatesNothing()
    {
        var limit = new LogRateLimit(1, TimeSpan.FromSeconds(10));
        limit.TryAcquire(0, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            limit.TryAcquire(i, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
