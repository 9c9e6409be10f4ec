using Proxy.Forwarding;
using Proxy.Runtime;

namespace Proxy.Filters;

/// <summary>
/// Local rate limits (Envoy's local_ratelimit): the listener's token bucket, then the route's; an empty bucket
/// answers 429 <c>RL</c> (gRPC: UNAVAILABLE), counted on the listener's or the route's counter. A request that matched
/// no route is left to the router's 404 and takes no token.
/// </summary>
public sealed class RateLimitFilter : IHttpFilter
{
    public const string FilterName = "rate_limit";

    private static readonly RateLimitFilter Instance = new();

    public string Name => FilterName;

    /// <summary>The filter, or null when neither the listener nor any of its routes has a limit.</summary>
    public static IHttpFilter? Create(HttpRouting routing) =>
        routing.RateLimit is not null || routing.Actions.Any(static a => a.RateLimit is not null) ? Instance : null;

    public FilterVerdict OnRequest(HttpExchange exchange)
    {
        if (exchange.Action is not { } action)
        {
            return FilterVerdict.Continue;
        }

        var routing = exchange.Routing;
        if (routing.RateLimit is { } listenerLimit && !listenerLimit.TryAcquire())
        {
            routing.RateLimited.Increment();
            return FilterVerdict.Answer(429, ResponseFlag.RateLimited);
        }

        if (action.RateLimit is { } routeLimit && !routeLimit.TryAcquire())
        {
            action.Counters.RateLimited.Increment();
            return FilterVerdict.Answer(429, ResponseFlag.RateLimited);
        }

        return FilterVerdict.Continue;
    }
}
