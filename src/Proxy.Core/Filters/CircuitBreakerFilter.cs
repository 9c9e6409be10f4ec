using Proxy.Forwarding;
using Proxy.Resilience;
using Proxy.Runtime;

namespace Proxy.Filters;

/// <summary>
/// The chosen cluster's circuit breaker, request limit (Envoy's max_requests): a request over it is answered 503
/// <c>UO</c> (gRPC: UNAVAILABLE); one under it holds a slot until it completes, however it ends.
/// </summary>
public sealed class CircuitBreakerFilter : IHttpFilter
{
    public const string FilterName = "circuit_breaker";

    private static readonly CircuitBreakerFilter Instance = new();

    public string Name => FilterName;

    /// <summary>The filter, or null when no cluster the listener routes to has a breaker.</summary>
    public static IHttpFilter? Create(HttpRouting routing) =>
        routing.Actions.Any(static a => a.Clusters.Any(static c => c.Resilience.Breaker is not null)) ? Instance : null;

    public FilterVerdict OnRequest(HttpExchange exchange)
    {
        if (exchange.Cluster?.Resilience.Breaker is { } breaker && breaker.TryAcquire(CircuitBreakerResource.Requests) != CircuitBreakerResource.None)
        {
            return FilterVerdict.Answer(503, ResponseFlag.UpstreamOverflow);
        }

        return FilterVerdict.Continue;
    }

    public void OnComplete(HttpExchange exchange) => exchange.Cluster?.Resilience.Breaker?.Release(CircuitBreakerResource.Requests);
}
