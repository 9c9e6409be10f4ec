using Proxy.Resilience;

namespace Proxy.Upstream;

public sealed partial class Endpoint
{
    private EndpointHealth? _health;

    /// <summary>
    /// Active health and outlier ejection, combined: the only writer of <see cref="IsHealthy"/>.
    /// Lives with the endpoint so it survives reloads that keep the endpoint.
    /// </summary>
    public EndpointHealth Health => Volatile.Read(ref _health) ?? CreateHealth();

    private EndpointHealth CreateHealth()
    {
        var health = new EndpointHealth(this);
        return Interlocked.CompareExchange(ref _health, health, null) ?? health;
    }
}
