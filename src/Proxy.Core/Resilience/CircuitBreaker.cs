using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Proxy.Configuration;
using Proxy.Observability.Metrics;

namespace Proxy.Resilience;

/// <summary>
/// Envoy-style concurrency limits of one cluster: connections, pending requests, requests and retries in
/// flight. Each is an Interlocked counter; <see cref="TryAcquire"/> increments unless at the limit, and every
/// successful acquire is paired with one <see cref="Release"/>. Beyond a limit the request fails at once
/// with 503 and the <c>UO</c> (upstream overflow) response flag. Lock-free, allocation-free.
/// </summary>
public sealed class CircuitBreaker
{
    private readonly int[] _limits = new int[5];
    private readonly int[] _counts = new int[5 * CacheLineInts];
    private readonly Counter[] _overflows = new Counter[5];

    // Each count on its own cache line: connections and requests are hit by different threads at once.
    private const int CacheLineInts = 16;

    public CircuitBreaker(int maxConnections, int maxPendingRequests, int maxRequests, int maxRetries, ClusterResilienceMetrics? metrics = null)
    {
        _limits[(int)CircuitBreakerResource.Connections] = maxConnections;
        _limits[(int)CircuitBreakerResource.PendingRequests] = maxPendingRequests;
        _limits[(int)CircuitBreakerResource.Requests] = maxRequests;
        _limits[(int)CircuitBreakerResource.Retries] = maxRetries;
        metrics ??= ClusterResilienceMetrics.Detached();
        _overflows[0] = new Counter();
        _overflows[(int)CircuitBreakerResource.Connections] = metrics.BreakerOverflowConnections;
        _overflows[(int)CircuitBreakerResource.PendingRequests] = metrics.BreakerOverflowPending;
        _overflows[(int)CircuitBreakerResource.Requests] = metrics.BreakerOverflowRequests;
        _overflows[(int)CircuitBreakerResource.Retries] = metrics.BreakerOverflowRetries;
    }

    /// <summary>The breaker of a cluster's <c>circuit_breaker</c> section.</summary>
    public static CircuitBreaker FromConfig(CircuitBreakerConfig config, ClusterResilienceMetrics? metrics = null) =>
        new(config.MaxConnections, config.MaxPendingRequests, config.MaxRequests, config.MaxRetries, metrics);

    /// <summary>
    /// Takes one unit of <paramref name="resource"/>: returns <see cref="CircuitBreakerResource.None"/> when taken
    /// (then call <see cref="Release"/> once), else <paramref name="resource"/> itself as the overflow reason (counted).
    /// </summary>
    public CircuitBreakerResource TryAcquire(CircuitBreakerResource resource)
    {
        int index = (int)resource;
        if ((uint)(index - 1) >= 4u)
        {
            ThrowBadResource();
        }

        ref int count = ref _counts[index * CacheLineInts];
        int limit = _limits[index];
        int current = Volatile.Read(ref count);
        while (true)
        {
            if (current >= limit)
            {
                _overflows[index].Increment();
                return resource;
            }

            int seen = Interlocked.CompareExchange(ref count, current + 1, current);
            if (seen == current)
            {
                return CircuitBreakerResource.None;
            }

            current = seen;
        }
    }

    /// <summary>Gives back one unit taken by a successful <see cref="TryAcquire"/>.</summary>
    public void Release(CircuitBreakerResource resource)
    {
        int index = (int)resource;
        if ((uint)(index - 1) >= 4u)
        {
            ThrowBadResource();
        }

        Interlocked.Decrement(ref _counts[index * CacheLineInts]);
    }

    [DoesNotReturn]
    [StackTraceHidden]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadResource() => throw new ArgumentOutOfRangeException("resource", "None is not a limited resource");

    /// <summary>Units of <paramref name="resource"/> held now.</summary>
    public int InUse(CircuitBreakerResource resource) => Volatile.Read(ref _counts[(int)resource * CacheLineInts]);

    /// <summary>The limit of <paramref name="resource"/>.</summary>
    public int Limit(CircuitBreakerResource resource) => _limits[(int)resource];

    /// <summary>Times <paramref name="resource"/> overflowed.</summary>
    public long Overflows(CircuitBreakerResource resource) => _overflows[(int)resource].Value;
}
