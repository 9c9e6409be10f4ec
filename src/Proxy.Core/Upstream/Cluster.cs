using Proxy.Observability;

namespace Proxy.Upstream;

/// <summary>
/// A named set of endpoints with one load-balancing policy and its timeouts: the runtime form of a
/// cluster in one configuration snapshot. Immutable; a reload builds a new one.
/// </summary>
public sealed class Cluster
{
    private readonly Endpoint[] _endpoints;
    private int _next = -1;

    public Cluster(string name, Endpoint[] endpoints, TimeSpan connectTimeout, TimeSpan idleTimeout, ClusterMetrics metrics)
    {
        Name = name;
        _endpoints = endpoints;
        ConnectTimeout = connectTimeout;
        IdleTimeout = idleTimeout;
        Metrics = metrics;
    }

    public string Name { get; }

    public IReadOnlyList<Endpoint> Endpoints => _endpoints;

    public TimeSpan ConnectTimeout { get; }

    /// <summary>How long a TCP stream may go without a byte in either direction.</summary>
    public TimeSpan IdleTimeout { get; }

    public ClusterMetrics Metrics { get; }

    /// <summary>Picks a healthy endpoint, or null when none is healthy (counted).</summary>
    public Endpoint? Pick()
    {
        // Round robin over healthy endpoints; the full picker set lives in LoadBalancing.
        var endpoints = _endpoints;
        for (var tried = 0; tried < endpoints.Length; tried++)
        {
            var index = (int)((uint)Interlocked.Increment(ref _next) % (uint)endpoints.Length);
            var endpoint = endpoints[index];
            if (endpoint.IsHealthy)
            {
                return endpoint;
            }
        }

        Metrics.NoHealthyEndpoint.Increment();
        return null;
    }
}
