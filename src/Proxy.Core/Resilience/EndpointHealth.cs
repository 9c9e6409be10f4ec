using Proxy.Upstream;

namespace Proxy.Resilience;

/// <summary>
/// The health of one endpoint as two independent opinions: the active health check ("unhealthy") and outlier
/// detection ("ejected"). The endpoint serves only when neither objects, and this object is the only writer of
/// <see cref="Endpoint.IsHealthy"/> (the one boolean the pickers read), so a passing health check cannot undo
/// an ejection and an expiring ejection cannot undo a failing health check. Also holds the outlier counters of
/// the endpoint. Lock-free; one per endpoint, carried over with the endpoint on reload.
/// </summary>
public sealed class EndpointHealth
{
    private const int ActiveUnhealthyBit = 1;
    private const int EjectedBit = 2;

    private int _state;

    // Outlier detection state, written by the forwarders (Interlocked) and the heartbeat.
    internal int Consecutive5xx;
    internal int ConsecutiveGatewayErrors;
    internal int EjectionCount;
    internal long EjectedUntil;

    // Active check streaks, written only by the health checker (checks of one endpoint never overlap).
    internal int CheckSuccesses;
    internal int CheckFailures;

    public EndpointHealth(Endpoint endpoint)
    {
        Endpoint = endpoint;
        Publish();
    }

    /// <summary>The endpoint whose <see cref="Endpoint.IsHealthy"/> this object drives.</summary>
    public Endpoint Endpoint { get; }

    /// <summary>True when neither the health check nor outlier detection holds the endpoint out of rotation.</summary>
    public bool IsAvailable => Volatile.Read(ref _state) == 0;

    /// <summary>True while the active health check considers the endpoint unhealthy.</summary>
    public bool IsActiveUnhealthy => (Volatile.Read(ref _state) & ActiveUnhealthyBit) != 0;

    /// <summary>True while outlier detection has ejected the endpoint.</summary>
    public bool IsEjected => (Volatile.Read(ref _state) & EjectedBit) != 0;

    /// <summary>Times the endpoint has been ejected, less one per interval spent healthy since (the ejection-time multiplier).</summary>
    public int Ejections => Volatile.Read(ref EjectionCount);

    /// <summary>Sets the active health check's opinion; true when it changed.</summary>
    public bool SetActiveUnhealthy(bool unhealthy) => Change(ActiveUnhealthyBit, unhealthy);

    /// <summary>Sets the ejection bit; true when it changed (so exactly one caller ejects or un-ejects).</summary>
    internal bool SetEjected(bool ejected) => Change(EjectedBit, ejected);

    private bool Change(int bit, bool set)
    {
        int current = Volatile.Read(ref _state);
        while (true)
        {
            int next = set ? current | bit : current & ~bit;
            if (next == current)
            {
                return false;
            }

            int seen = Interlocked.CompareExchange(ref _state, next, current);
            if (seen == current)
            {
                Publish();
                return true;
            }

            current = seen;
        }
    }

    private void Publish()
    {
        // Two changers may publish in the opposite order of their state changes; re-reading until the
        // published value matches the state makes the last writer publish the latest state.
        while (true)
        {
            int state = Volatile.Read(ref _state);
            Endpoint.IsHealthy = state == 0;
            if (Volatile.Read(ref _state) == state)
            {
                return;
            }
        }
    }
}
