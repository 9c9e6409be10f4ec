using Proxy.Forwarding;

namespace Proxy.Filters;

/// <summary>
/// One step of a listener's HTTP filter chain (Envoy's http_filters): it sees every request after routing and
/// before the router, whatever the client and the upstream speak, and lets it pass, answers it locally, or delays
/// it. The router is the chain's last step (<see cref="HttpFilterChain"/>). A filter is shared by every request of
/// its listener, on every thread at once: per-request state lives on the <see cref="HttpExchange"/>.
/// </summary>
public interface IHttpFilter
{
    /// <summary>The name it is registered and configured under (<see cref="HttpFilterRegistry"/>).</summary>
    string Name { get; }

    /// <summary>Decides a request. Runs on the connection's thread: it must not block.</summary>
    FilterVerdict OnRequest(HttpExchange exchange);

    /// <summary>
    /// The request this filter let through has completed (answered, relayed, or abandoned by its client), whoever
    /// ended it: release what <see cref="OnRequest"/> took.
    /// </summary>
    void OnComplete(HttpExchange exchange)
    {
    }
}
