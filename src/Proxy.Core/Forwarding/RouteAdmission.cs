using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// The route features a request meets between routing and its first attempt, decided the same way for HTTP/1.1 and
/// HTTP/2 clients over their own request views: the listener's token bucket, then the route's, then the route's fault
/// injection (header overrides and matchers), then the sampled mirror. Every outcome is counted here. Allocation-free;
/// a route with none of these costs a few null checks.
/// </summary>
internal static class RouteAdmission
{
    /// <summary>
    /// Rate limits, then faults: <see cref="Admission.RateLimited"/> when a bucket is empty (counted on the
    /// listener's or the route's counter), else the fault's delay and abort (each counted), else
    /// <see cref="Admission.Forward"/>.
    /// </summary>
    public static Admission Decide<TRequest>(HttpRouting routing, RouteRuntime action, scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        if (routing.RateLimit is { } listenerLimit && !listenerLimit.TryAcquire())
        {
            routing.RateLimited.Increment();
            return Admission.RateLimited;
        }

        if (action.RateLimit is { } routeLimit && !routeLimit.TryAcquire())
        {
            action.Counters.RateLimited.Increment();
            return Admission.RateLimited;
        }

        if (action.Fault is not { } fault)
        {
            return Admission.Forward;
        }

        request.TryGetHeader(FaultInjector.DelayHeader, out ReadOnlySpan<byte> delayHeader);
        request.TryGetHeader(FaultInjector.AbortHeader, out ReadOnlySpan<byte> abortHeader);
        FaultDecision decision = fault.Decide(FaultHeadersMatch(action, ref request), delayHeader, abortHeader);
        if (decision.Delay > TimeSpan.Zero)
        {
            action.Counters.FaultDelays.Increment();
        }

        if (decision.AbortStatus != 0)
        {
            action.Counters.FaultAborts.Increment();
            return new Admission(decision.AbortStatus, ResponseFlag.FaultInjected, decision.Delay);
        }

        return new Admission(0, ResponseFlag.None, decision.Delay);
    }

    /// <summary>
    /// The cluster a copy of this request goes to (counted), or null: only requests without a body are mirrored, on
    /// routes with a <c>mirror</c> section, at its sampled percentage.
    /// </summary>
    public static Cluster? MirrorTarget(RouteRuntime action, bool hasBody)
    {
        if (hasBody || action.Mirror is not { } mirror || action.MirrorCluster is not { } cluster || !mirror.ShouldMirror())
        {
            return null;
        }

        action.Counters.Mirrored.Increment();
        return cluster;
    }

    /// <summary>True when the request matches every header condition of the route's fault (true when there are none).</summary>
    private static bool FaultHeadersMatch<TRequest>(RouteRuntime action, scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        foreach (HeaderMatcher matcher in action.FaultHeaders)
        {
            if (!matcher.Matches(ref request))
            {
                return false;
            }
        }

        return true;
    }
}
