namespace Proxy.Resilience;

/// <summary>
/// The conditions under which a failed attempt may be retried (the <c>retry_on</c> list of a route),
/// as flags so that a policy tests an outcome with one AND.
/// </summary>
[Flags]
public enum RetryOn
{
    /// <summary>Never retry.</summary>
    None = 0,

    /// <summary><c>connect-failure</c>: the connection to the upstream could not be made (nothing was sent).</summary>
    ConnectFailure = 1 << 0,

    /// <summary><c>reset</c>: the upstream closed or reset the connection before a response head.</summary>
    Reset = 1 << 1,

    /// <summary><c>5xx</c>: any 5xx status, a reset, a connect failure or a per-try timeout (as Envoy's <c>5xx</c>).</summary>
    Status5xx = 1 << 2,

    /// <summary><c>gateway-error</c>: 502, 503, 504, a connect failure or a per-try timeout.</summary>
    GatewayError = 1 << 3,

    /// <summary><c>retriable-status-codes</c>: the statuses listed in <c>status_codes</c>.</summary>
    RetriableStatusCodes = 1 << 4,

    /// <summary><c>cancelled</c>: gRPC status 1.</summary>
    GrpcCancelled = 1 << 5,

    /// <summary><c>deadline-exceeded</c>: gRPC status 4.</summary>
    GrpcDeadlineExceeded = 1 << 6,

    /// <summary><c>resource-exhausted</c>: gRPC status 8.</summary>
    GrpcResourceExhausted = 1 << 7,

    /// <summary><c>unavailable</c>: gRPC status 14.</summary>
    GrpcUnavailable = 1 << 8,

    /// <summary>
    /// <c>refused-stream</c>: an HTTP/2 upstream refused the stream (RST_STREAM REFUSED_STREAM, or above the last
    /// stream id of its GOAWAY), so it processed nothing of the request (RFC 9113 8.7).
    /// </summary>
    RefusedStream = 1 << 9,
}
