namespace Proxy.Resilience;

/// <summary>
/// A resource a <see cref="CircuitBreaker"/> limits; as the result of <see cref="CircuitBreaker.TryAcquire"/>,
/// <see cref="None"/> means acquired and any other value names the limit that overflowed (the 503 <c>UO</c> flag).
/// </summary>
public enum CircuitBreakerResource : byte
{
    /// <summary>Nothing overflowed (acquired).</summary>
    None,

    /// <summary>Upstream connections (<c>max_connections</c>).</summary>
    Connections,

    /// <summary>Requests waiting for a connection (<c>max_pending_requests</c>).</summary>
    PendingRequests,

    /// <summary>Requests in flight (<c>max_requests</c>).</summary>
    Requests,

    /// <summary>Retries in flight (<c>max_retries</c>).</summary>
    Retries,
}
