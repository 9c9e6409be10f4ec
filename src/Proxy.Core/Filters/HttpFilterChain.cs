using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Forwarding;

namespace Proxy.Filters;

/// <summary>
/// A listener's HTTP filters in their configured order, run for every request between routing and the router (Envoy's
/// http_connection_manager). Each filter may pass the request on, answer it, or delay it; the first answer ends the
/// chain. The filters that passed a request are told when it completes, in reverse order, whoever ended it.
/// A request that every filter passes at once costs no allocation and no await.
/// </summary>
public sealed class HttpFilterChain
{
    private readonly IHttpFilter[] _filters;

    public HttpFilterChain(IHttpFilter[] filters) => _filters = filters;

    /// <summary>A chain with no filter: only the router.</summary>
    public static HttpFilterChain Empty { get; } = new([]);

    /// <summary>The filters, in order.</summary>
    public IReadOnlyList<IHttpFilter> Filters => _filters;

    /// <summary>
    /// Runs the filters over the request. True: every filter let it through, on to the router. False: a filter answered
    /// it, or its route answers by itself (a redirect or direct response; the answer is sent and recorded), or its
    /// client left during a filter's delay (recorded as such).
    /// </summary>
    public ValueTask<bool> RunAsync(HttpExchange exchange)
    {
        var filters = _filters;
        for (var i = exchange.FiltersPassed; i < filters.Length; i++)
        {
            var verdict = filters[i].OnRequest(exchange);
            if (!verdict.IsContinue)
            {
                return FinishSlowAsync(exchange, verdict);
            }

            exchange.FiltersPassed = i + 1;
        }

        // The router's first step, taken here at the end of every chain (configured, default, or the mesh inbound one):
        // a route that redirects or answers directly is answered now, after every filter, so rate limits, faults and
        // authorization apply to it as in Envoy, whose router (last in the chain) answers such routes. Here rather than
        // in each downstream adapter, since they already read false as "answered".
        if (exchange.Action?.LocalResponse is { } local)
        {
            return AnswerLocallyAsync(exchange, local);
        }

        return new ValueTask<bool>(true);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> AnswerLocallyAsync(HttpExchange exchange, Routing.LocalResponse response)
    {
        await exchange.AnswerAsync(response).ConfigureAwait(false);
        return false;
    }

    /// <summary>A delay, then the answer or the rest of the chain; or the answer at once.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FinishSlowAsync(HttpExchange exchange, FilterVerdict verdict)
    {
        if (verdict.Delay > TimeSpan.Zero)
        {
            await Task.Delay(verdict.Delay).ConfigureAwait(false);
            if (exchange.ClientGone)
            {
                exchange.RecordClientGone();
                return false;
            }
        }

        if (verdict.Status != 0)
        {
            await exchange.AnswerAsync(verdict.Status, verdict.Flag).ConfigureAwait(false);
            return false;
        }

        // The filter that delayed the request lets it through: the chain goes on after it.
        exchange.FiltersPassed++;
        return await RunAsync(exchange).ConfigureAwait(false);
    }

    /// <summary>Tells the filters that passed the request that it completed, last first.</summary>
    public void Complete(HttpExchange exchange)
    {
        var filters = _filters;
        for (var i = Math.Min(exchange.FiltersPassed, filters.Length) - 1; i >= 0; i--)
        {
            filters[i].OnComplete(exchange);
        }

        exchange.FiltersPassed = 0;
    }
}
