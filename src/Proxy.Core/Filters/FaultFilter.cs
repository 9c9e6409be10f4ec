using Proxy.Forwarding;
using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Runtime;

namespace Proxy.Filters;

/// <summary>
/// Fault injection (Envoy's fault filter): the route's delay and abort (else the listener's, as a management server's
/// fault filter configures it), at their percentages, for requests matching the fault's header conditions, with the client's override fields when the route's <c>header_control</c> allows them. Each delay and abort is counted on the route. A
/// delay holds only its own request; an abort answers with the fault's status and flag <c>FI</c>.
/// </summary>
public sealed class FaultFilter : IHttpFilter
{
    public const string FilterName = "fault";

    private static readonly FaultFilter Instance = new();

    public string Name => FilterName;

    /// <summary>The filter, or null when no route of the listener injects faults.</summary>
    public static IHttpFilter? Create(HttpRouting routing) =>
        routing.Fault is not null || routing.Actions.Any(static a => a.Fault is not null) ? Instance : null;

    public FilterVerdict OnRequest(HttpExchange exchange)
    {
        if (exchange.Action is not { } action)
        {
            return FilterVerdict.Continue;
        }

        var (fault, conditions) = action.Fault is { } own ? (own, action.FaultHeaders) : (exchange.Routing.Fault, exchange.Routing.FaultHeaders);
        if (fault is null)
        {
            return FilterVerdict.Continue;
        }

        // The client's own fault fields count only where the route allows them (header_control): an edge's clients
        // must not be able to delay or fail its routes at will. Elsewhere they are forwarded as any other field.
        ReadOnlySpan<byte> delayHeader = default;
        ReadOnlySpan<byte> abortHeader = default;
        if (fault.HeaderControl)
        {
            exchange.TryGetHeader(FaultInjector.DelayHeader, out delayHeader);
            exchange.TryGetHeader(FaultInjector.AbortHeader, out abortHeader);
        }

        var decision = fault.Decide(HeadersMatch(conditions, exchange), delayHeader, abortHeader);
        if (decision.Delay > TimeSpan.Zero)
        {
            action.Counters.FaultDelays.Increment();
        }

        if (decision.AbortStatus != 0)
        {
            action.Counters.FaultAborts.Increment();
            return new FilterVerdict(decision.AbortStatus, ResponseFlag.FaultInjected, decision.Delay);
        }

        return new FilterVerdict(0, ResponseFlag.None, decision.Delay);
    }

    /// <summary>True when the request matches every header condition of the fault (true when there are none).</summary>
    private static bool HeadersMatch(HeaderMatcher[] conditions, HttpExchange exchange)
    {
        foreach (HeaderMatcher matcher in conditions)
        {
            if (!matcher.Matches(ref exchange))
            {
                return false;
            }
        }

        return true;
    }
}
