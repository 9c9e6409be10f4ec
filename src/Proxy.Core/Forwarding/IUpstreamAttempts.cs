using Proxy.Resilience;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// The tries of one request on one kind of upstream, as the router drives them (<see cref="AttemptDriver"/>): one
/// implementation per pairing of client codec and upstream kind, each over the codecs' own state, so the router's
/// rules (deadline, retries, budget, breaker, outlier reports, endpoint choice) are written once. An implementation
/// keeps the state of the current try itself; it is one object per connection (HTTP/1.1) or per pooled stream
/// (HTTP/2), reused by each request, so a request allocates none of it.
/// </summary>
internal interface IUpstreamAttempts
{
    /// <summary>
    /// Makes one try on <paramref name="endpoint"/>: the request head and body sent (a pooled or new connection, or a
    /// stream on a shared one), and the wait for the response head, bounded by the deadline's try timeout. Returns
    /// what the try came to; a response's head stays parsed for <see cref="FinishAsync"/>.
    /// </summary>
    ValueTask<AttemptOutcome> TryAsync(Endpoint endpoint, RequestDeadline deadline);

    /// <summary>True when the client left (reset its stream, closed its connection) during the try.</summary>
    bool ClientGone { get; }

    /// <summary>The client left: cancels the upstream side of the try and records the request (status 0, <c>DC</c>).</summary>
    ValueTask OnClientGoneAsync(Endpoint endpoint);

    /// <summary>
    /// True when the request can be sent again after this try: it has no body, its body is in hand, the try failed
    /// before anything was sent, or what the try took of a streamed body is still held for a replay. May stop the
    /// try's upload to know.
    /// </summary>
    ValueTask<bool> ReplayableAsync(AttemptOutcome outcome);

    /// <summary>True when the client's body broke the rules (too large, malformed): the answer is the client's, never a retry.</summary>
    bool ClientProblem { get; }

    /// <summary>Relays the last try's response to the client, or answers the failure it ended with. True: the client's connection can carry another request.</summary>
    ValueTask<bool> FinishAsync(Endpoint endpoint);

    /// <summary>After every try, finished or retried: ends its upload, returns or closes its connection, releases its stream.</summary>
    ValueTask EndTryAsync();

    /// <summary>Answers with a response the proxy makes (503 no healthy endpoint, 504 deadline passed), recorded.</summary>
    ValueTask<bool> AnswerAsync(int status, ResponseFlag flag);
}
