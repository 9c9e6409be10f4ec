using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// A load-balancing policy bound to one cluster snapshot: chooses the endpoint for the next request.
/// Instances are immutable apart from lock-free counters, safe to call from any thread, and never
/// allocate on <see cref="Pick"/>.
/// </summary>
public interface IEndpointPicker
{
    /// <summary>
    /// Returns a healthy endpoint for the request described by <paramref name="context"/>,
    /// or null when no endpoint is healthy (the forwarder answers 503).
    /// </summary>
    Endpoint? Pick(in PickContext context);
}
