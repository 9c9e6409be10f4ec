using Proxy.Configuration;
using Proxy.Resilience;
using Proxy.Tests.LoadBalancing;

namespace Proxy.Tests.Resilience;

public class TokenBucketTests
{
    [Fact]
    public void TryAcquire_Burst_ThenRefused()
    {
        var clock = new ManualClock();
        var bucket = new TokenBucket(10, 5, clock.Read);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(bucket.TryAcquire());
        }

        Assert.False(bucket.TryAcquire());
        Assert.Equal(1, bucket.Refused);
        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.RetryAfter());
    }

    [Fact]
    public void TryAcquire_RefillsAtRate()
    {
        var clock = new ManualClock();
        var bucket = TokenBucket.FromConfig(new RateLimitConfig { RequestsPerSecond = 10, Burst = 1 }, clock.Read);
        Assert.True(bucket.TryAcquire());
        Assert.False(bucket.TryAcquire());
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(bucket.TryAcquire());
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.TryAcquire());
    }

    [Fact]
    public void TryAcquire_LongIdle_RefillsOnlyToBurst()
    {
        var clock = new ManualClock();
        var bucket = new TokenBucket(100, 3, clock.Read);
        clock.Advance(TimeSpan.FromHours(1));
        int granted = 0;
        while (bucket.TryAcquire())
        {
            granted++;
        }

        Assert.Equal(3, granted);
        Assert.Equal(TimeSpan.Zero, new TokenBucket(1, 1, clock.Read).RetryAfter());
    }

    [Fact]
    public void TryAcquire_SteadyRate_AdmitsRateOverTime()
    {
        var clock = new ManualClock();
        var bucket = new TokenBucket(50, 10, clock.Read);
        int granted = 0;
        for (int ms = 0; ms < 10_000; ms++)
        {
            if (bucket.TryAcquire())
            {
                granted++;
            }

            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.InRange(granted, 500, 511); // 50/s for 10 s plus the initial burst
    }

    [Fact]
    public void TryAcquire_Concurrent_GrantsExactlyBurst()
    {
        var clock = new ManualClock();
        var bucket = new TokenBucket(1, 1000, clock.Read);
        int granted = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 1000; i++)
            {
                if (bucket.TryAcquire())
                {
                    Interlocked.Increment(ref granted);
                }
            }
        });
        Assert.Equal(1000, granted);
        Assert.Equal(3000, bucket.Refused);
    }
}
