using Proxy.Configuration;
using Proxy.Resilience;

namespace Proxy.Tests.Resilience;

public class CircuitBreakerTests
{
    [Theory]
    [InlineData(CircuitBreakerResource.Connections)]
    [InlineData(CircuitBreakerResource.PendingRequests)]
    [InlineData(CircuitBreakerResource.Requests)]
    [InlineData(CircuitBreakerResource.Retries)]
    public void TryAcquire_AtLimit_ReturnsResourceAndCounts(CircuitBreakerResource resource)
    {
        var breaker = new CircuitBreaker(2, 2, 2, 2);
        Assert.Equal(CircuitBreakerResource.None, breaker.TryAcquire(resource));
        Assert.Equal(CircuitBreakerResource.None, breaker.TryAcquire(resource));
        Assert.Equal(resource, breaker.TryAcquire(resource));
        Assert.Equal(1, breaker.Overflows(resource));
        breaker.Release(resource);
        Assert.Equal(CircuitBreakerResource.None, breaker.TryAcquire(resource));
        Assert.Equal(2, breaker.InUse(resource));
    }

    [Fact]
    public void TryAcquire_ResourcesIndependent()
    {
        var breaker = CircuitBreaker.FromConfig(new CircuitBreakerConfig { MaxRetries = 0, MaxRequests = 1 });
        Assert.Equal(CircuitBreakerResource.Retries, breaker.TryAcquire(CircuitBreakerResource.Retries));
        Assert.Equal(CircuitBreakerResource.None, breaker.TryAcquire(CircuitBreakerResource.Requests));
        Assert.Equal(CircuitBreakerResource.None, breaker.TryAcquire(CircuitBreakerResource.Connections));
        Assert.Equal(0, breaker.Overflows(CircuitBreakerResource.Requests));
    }

    [Fact]
    public void TryAcquire_Concurrent_NeverExceedsLimit()
    {
        var breaker = new CircuitBreaker(1, 1, 8, 1);
        int maxSeen = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                if (breaker.TryAcquire(CircuitBreakerResource.Requests) == CircuitBreakerResource.None)
                {
                    int inUse = breaker.InUse(CircuitBreakerResource.Requests);
                    InterlockedMax(ref maxSeen, inUse);
                    breaker.Release(CircuitBreakerResource.Requests);
                }
            }
        });
        Assert.InRange(maxSeen, 1, 8);
        Assert.Equal(0, breaker.InUse(CircuitBreakerResource.Requests));
    }

    [Fact]
    public void TryAcquire_None_Throws()
    {
        var breaker = new CircuitBreaker(1, 1, 1, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => breaker.TryAcquire(CircuitBreakerResource.None));
    }

    [Fact]
    public void Overflow_CountedInClusterMetrics()
    {
        var registry = new Proxy.Observability.Metrics.MetricsRegistry();
        var metrics = new ClusterResilienceMetrics(new ResilienceMetrics(registry), "api");
        var breaker = new CircuitBreaker(0, 0, 0, 0, metrics);
        breaker.TryAcquire(CircuitBreakerResource.PendingRequests);
        Assert.Equal(1, metrics.BreakerOverflowPending.Value);
        Assert.Contains("proxy_circuit_breaker_overflows_total{cluster=\"api\",resource=\"pending_requests\"} 1", registry.Render());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
