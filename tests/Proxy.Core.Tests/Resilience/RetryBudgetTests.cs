using System.Diagnostics;
using Proxy.Resilience;
using Proxy.Tests.LoadBalancing;

namespace Proxy.Tests.Resilience;

public class RetryBudgetTests
{
    [Fact]
    public void TryWithdraw_NoRequests_OnlyMinimumReserve()
    {
        var clock = new ManualClock();
        var budget = new RetryBudget(0.2, minPerSecond: 1, clock.Read);
        int allowed = 0;
        while (budget.TryWithdraw())
        {
            allowed++;
        }

        Assert.Equal(10, allowed); // 1 per second over a 10 s window
        Assert.Equal(1, budget.Exhausted.Value);
    }

    [Fact]
    public void TryWithdraw_RatioOfRequests()
    {
        var clock = new ManualClock();
        var budget = new RetryBudget(0.25, minPerSecond: 0, clock.Read);
        for (int i = 0; i < 100; i++)
        {
            budget.Deposit();
        }

        int allowed = 0;
        while (budget.TryWithdraw())
        {
            allowed++;
        }

        Assert.Equal(25, allowed);
    }

    [Fact]
    public void TryWithdraw_WindowSlides_OldRequestsExpire()
    {
        var clock = new ManualClock();
        var budget = new RetryBudget(0.5, minPerSecond: 0, clock.Read);
        for (int i = 0; i < 10; i++)
        {
            budget.Deposit();
        }

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(10, budget.Requests);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, budget.Requests);
        Assert.False(budget.TryWithdraw());
    }

    [Fact]
    public void TryWithdraw_UpstreamDownForLong_RetriesCappedAtRatio()
    {
        // 100 requests per second for five minutes, each failing and asking for one retry.
        var clock = new ManualClock();
        var budget = new RetryBudget(0.2, minPerSecond: 1, clock.Read);
        long requests = 0;
        long retries = 0;
        for (int second = 0; second < 300; second++)
        {
            for (int i = 0; i < 100; i++)
            {
                budget.Deposit();
                requests++;
                if (budget.TryWithdraw())
                {
                    retries++;
                }

                clock.Advance(TimeSpan.FromMilliseconds(10));
            }
        }

        double ratio = (double)retries / requests;
        // The ratio plus the reserve of 1/s (0.01 per request at 100 rps).
        Assert.InRange(ratio, 0.19, 0.215);
        Assert.True(budget.Exhausted.Value > requests / 2);
    }

    [Fact]
    public void SlidingWindowCounter_ConcurrentAdds_NoneLost()
    {
        var counter = new SlidingWindowCounter(10);
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                counter.Add(7);
            }
        });
        Assert.Equal(200_000, counter.Sum(7));
        Assert.Equal(200_000, counter.Sum(16));
        Assert.Equal(0, counter.Sum(17));
    }

    [Fact]
    public void SlidingWindowCounter_StaleBucketReused_RestartsCount()
    {
        var counter = new SlidingWindowCounter(3);
        counter.Add(1);
        counter.Add(1);
        counter.Add(4); // same slot as second 1
        Assert.Equal(1, counter.Sum(4));
        Assert.Equal(0, counter.Sum(7));
    }

    [Fact]
    public void FromConfig_UsesRatioAndMinimum()
    {
        var budget = RetryBudget.FromConfig(new Proxy.Configuration.RetryBudgetConfig { Ratio = 0.5, MinPerSecond = 3 });
        Assert.Equal(0.5, budget.Ratio);
        Assert.Equal(3, budget.MinPerSecond);
        Assert.True(Stopwatch.Frequency > 0);
    }
}
