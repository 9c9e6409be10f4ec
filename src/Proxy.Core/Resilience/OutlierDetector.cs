using System.Diagnostics;
using Proxy.Configuration;

namespace Proxy.Resilience;

/// <summary>
/// Passive health of one cluster (Envoy's outlier detection): counts consecutive 5xx and consecutive gateway
/// errors (502, 503, 504, connect failures, resets, timeouts) per endpoint from the forwarders' results, and
/// ejects an endpoint that reaches a threshold for <c>base_ejection_time * ejections</c> (at most
/// <see cref="MaxEjectionTime"/>). At most <c>max_ejection_percent</c> of the endpoints are ejected at once,
/// but always at least one may be, and never the last endpoint still serving. Ejections expire in
/// <see cref="Tick"/> (the one-second heartbeat) or <see cref="MaybeExpire"/> (cheap; call before a pick).
/// Each interval an endpoint spends un-ejected lowers its ejection multiplier by one.
/// Lock-free; reporting is allocation-free.
/// </summary>
public sealed class OutlierDetector
{
    /// <summary>Longest ejection, whatever the multiplier (Envoy's default <c>max_ejection_time</c>).</summary>
    public static readonly TimeSpan MaxEjectionTime = TimeSpan.FromSeconds(300);

    private readonly EndpointHealth[] _endpoints;
    private readonly Func<long> _clock;
    private readonly ClusterResilienceMetrics _metrics;
    private readonly int _consecutive5xx;
    private readonly int _consecutiveGatewayErrors;
    private readonly long _baseEjectionTicks;
    private readonly long _maxEjectionTicks;
    private readonly long _intervalTicks;
    private readonly double _maxEjectionPercent;
    private int _ejected;
    private long _nextExpiry = long.MaxValue;
    private long _nextInterval;

    /// <param name="endpoints">The health objects of the cluster's endpoints.</param>
    /// <param name="config">Thresholds and times.</param>
    /// <param name="clock">Now in Stopwatch ticks (default Stopwatch.GetTimestamp).</param>
    /// <param name="metrics">Ejection counters (detached when null).</param>
    public OutlierDetector(EndpointHealth[] endpoints, OutlierDetectionConfig config, Func<long>? clock = null, ClusterResilienceMetrics? metrics = null)
    {
        _endpoints = endpoints;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _metrics = metrics ?? ClusterResilienceMetrics.Detached();
        _consecutive5xx = config.Consecutive5xx;
        _consecutiveGatewayErrors = config.ConsecutiveGatewayErrors;
        _baseEjectionTicks = ToTicks(config.BaseEjectionTime);
        _maxEjectionTicks = Math.Max(_baseEjectionTicks, ToTicks(MaxEjectionTime));
        _intervalTicks = Math.Max(1, ToTicks(config.Interval));
        _maxEjectionPercent = config.MaxEjectionPercent;
        _nextInterval = _clock() + _intervalTicks;
    }

    /// <summary>Endpoints ejected now.</summary>
    public int EjectedCount => Volatile.Read(ref _ejected);

    /// <summary>
    /// Feeds the result of one attempt on <paramref name="endpoint"/>. Returns true when this report ejected it
    /// (the forwarder need not act: <see cref="Upstream.Endpoint.IsHealthy"/> is already false).
    /// </summary>
    public bool Report(EndpointHealth endpoint, in AttemptOutcome outcome)
    {
        bool gateway;
        bool is5xx;
        if (outcome.Failure != AttemptFailure.None)
        {
            gateway = true;
            is5xx = true;
        }
        else
        {
            is5xx = outcome.Status is >= 500 and <= 599;
            gateway = outcome.Status is 502 or 503 or 504;
        }

        if (!is5xx)
        {
            // A success (or a client error, which says nothing about the endpoint) ends both streaks.
            if (Volatile.Read(ref endpoint.Consecutive5xx) != 0)
            {
                Volatile.Write(ref endpoint.Consecutive5xx, 0);
            }

            if (Volatile.Read(ref endpoint.ConsecutiveGatewayErrors) != 0)
            {
                Volatile.Write(ref endpoint.ConsecutiveGatewayErrors, 0);
            }

            return false;
        }

        int fives = Interlocked.Increment(ref endpoint.Consecutive5xx);
        int gateways = gateway
            ? Interlocked.Increment(ref endpoint.ConsecutiveGatewayErrors)
            : ResetGateway(endpoint);
        if (_consecutiveGatewayErrors > 0 && gateways >= _consecutiveGatewayErrors)
        {
            return TryEject(endpoint, _metrics.EjectionsGatewayErrors, gatewayErrors: true);
        }

        if (_consecutive5xx > 0 && fives >= _consecutive5xx)
        {
            return TryEject(endpoint, _metrics.Ejections5xx, gatewayErrors: false);
        }

        return false;
    }

    /// <summary>Runs <see cref="Tick"/> only when an ejection is due to expire: one volatile read otherwise.</summary>
    public void MaybeExpire()
    {
        if (Volatile.Read(ref _nextExpiry) != long.MaxValue)
        {
            long now = _clock();
            if (now >= Volatile.Read(ref _nextExpiry))
            {
                Tick(now);
            }
        }
    }

    /// <summary>Un-ejects endpoints whose time has passed and, once per interval, lowers the multipliers of un-ejected ones. Called by the heartbeat.</summary>
    public void Tick() => Tick(_clock());

    /// <summary>As <see cref="Tick()"/> at <paramref name="now"/> (Stopwatch ticks).</summary>
    public void Tick(long now)
    {
        bool intervalPassed = now >= Volatile.Read(ref _nextInterval);
        if (intervalPassed)
        {
            Volatile.Write(ref _nextInterval, now + _intervalTicks);
        }

        long nextExpiry = long.MaxValue;
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.IsEjected)
            {
                long until = Volatile.Read(ref endpoint.EjectedUntil);
                if (now >= until)
                {
                    if (endpoint.SetEjected(false))
                    {
                        Interlocked.Decrement(ref _ejected);
                        _metrics.Ejected.Decrement();
                        endpoint.Endpoint.Events.Returned(endpoint.Endpoint);
                    }
                }
                else
                {
                    nextExpiry = Math.Min(nextExpiry, until);
                }
            }
            else if (intervalPassed && Volatile.Read(ref endpoint.EjectionCount) > 0)
            {
                Interlocked.Decrement(ref endpoint.EjectionCount);
            }
        }

        Volatile.Write(ref _nextExpiry, nextExpiry);
    }

    private static int ResetGateway(EndpointHealth endpoint)
    {
        Volatile.Write(ref endpoint.ConsecutiveGatewayErrors, 0);
        return 0;
    }

    private bool TryEject(EndpointHealth endpoint, Observability.Metrics.Counter reason, bool gatewayErrors)
    {
        if (endpoint.IsEjected)
        {
            return false;
        }

        // Reserve a place among the ejected first, so concurrent ejections cannot overshoot the cap.
        int total = _endpoints.Length;
        int ejected = Volatile.Read(ref _ejected);
        while (true)
        {
            bool withinPercent = ejected == 0 || (ejected + 1) * 100.0 <= _maxEjectionPercent * total;
            if (!withinPercent || !OthersServing(endpoint))
            {
                _metrics.EjectionsSkipped.Increment();
                ResetStreaks(endpoint);
                return false;
            }

            int seen = Interlocked.CompareExchange(ref _ejected, ejected + 1, ejected);
            if (seen == ejected)
            {
                break;
            }

            ejected = seen;
        }

        long now = _clock();
        int count = Interlocked.Increment(ref endpoint.EjectionCount);
        long duration = _baseEjectionTicks > _maxEjectionTicks / count ? _maxEjectionTicks : _baseEjectionTicks * count;
        Volatile.Write(ref endpoint.EjectedUntil, now + duration);
        if (!endpoint.SetEjected(true))
        {
            // Another thread ejected it between the check and here: give the place back.
            Interlocked.Decrement(ref _ejected);
            Interlocked.Decrement(ref endpoint.EjectionCount);
            return false;
        }

        ResetStreaks(endpoint);
        reason.Increment();
        _metrics.Ejected.Increment();
        LowerNextExpiry(now + duration);
        endpoint.Endpoint.Events.Ejected(
            endpoint.Endpoint,
            gatewayErrors ? $"{_consecutiveGatewayErrors} gateway errors in a row (connect failures, resets, 502/503/504)" : $"{_consecutive5xx} 5xx responses in a row",
            TimeSpan.FromSeconds(duration / (double)Stopwatch.Frequency));
        return true;
    }

    private bool OthersServing(EndpointHealth candidate)
    {
        foreach (var endpoint in _endpoints)
        {
            if (endpoint != candidate && endpoint.IsAvailable)
            {
                return true;
            }
        }

        return false;
    }

    private static void ResetStreaks(EndpointHealth endpoint)
    {
        Volatile.Write(ref endpoint.Consecutive5xx, 0);
        Volatile.Write(ref endpoint.ConsecutiveGatewayErrors, 0);
    }

    private void LowerNextExpiry(long until)
    {
        long current = Volatile.Read(ref _nextExpiry);
        while (until < current)
        {
            long seen = Interlocked.CompareExchange(ref _nextExpiry, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static long ToTicks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);
}
