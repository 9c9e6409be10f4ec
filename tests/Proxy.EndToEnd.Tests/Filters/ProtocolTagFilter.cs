using System.Text;
using Proxy.Filters;
using Proxy.Forwarding;

namespace Proxy.EndToEnd.Tests.Filters;

/// <summary>
/// A filter written outside the proxy, as a user would add one: it refuses requests that carry <c>x-block</c> (403),
/// and tells the upstream which protocol the client spoke and what the filter saw of the request, in a field it adds.
/// It knows nothing of codecs: one file, registered by one line (<see cref="Register"/>).
/// </summary>
internal sealed class ProtocolTagFilter : IHttpFilter
{
    public const string FilterName = "e2e_protocol_tag";

    /// <summary>Requests this filter let through and saw complete.</summary>
    public static int Completed;

    public string Name => FilterName;

    public static void Register() => HttpFilterRegistry.Register(FilterName, static _ => new ProtocolTagFilter());

    public FilterVerdict OnRequest(HttpExchange exchange)
    {
        if (exchange.TryGetHeader("x-block"u8, out _))
        {
            return FilterVerdict.Answer(403, ResponseFlag.AccessDenied);
        }

        var seen = $"{exchange.Protocol} {Encoding.ASCII.GetString(exchange.Method)} {Encoding.ASCII.GetString(exchange.Path)} route={exchange.Route?.Name} cluster={exchange.Cluster?.Name}";
        exchange.RequestHeadersToAdd.Add("x-filter-saw"u8, Encoding.ASCII.GetBytes(seen));
        return FilterVerdict.Continue;
    }

    public void OnComplete(HttpExchange exchange) => Interlocked.Increment(ref Completed);
}
