namespace Proxy.Configuration;

/// <summary>One destination the app dials, by its virtual address, and where it really goes.</summary>
public sealed record MeshServiceConfig
{
    /// <summary>The virtual address the app connects to.</summary>
    public required HostPort Address { get; init; }

    /// <summary>The cluster that serves it (the target of the catch-all route when <see cref="Routes"/> is empty).</summary>
    public required string Cluster { get; init; }

    /// <summary>The service's host name for the metrics (<c>destination_service</c>, e.g. <c>api.shop.svc.cluster.local</c>); null means the cluster's name.</summary>
    public string? Host { get; init; }

    /// <summary>The SPIFFE ID the upstream must present; null for plain text.</summary>
    public string? Identity { get; init; }

    /// <summary>What the app speaks to it (default auto: detected per connection).</summary>
    public MeshServiceProtocol Protocol { get; init; } = MeshServiceProtocol.Auto;

    /// <summary>Routes for its HTTP traffic, as a listener's; empty means one catch-all route to <see cref="Cluster"/>.</summary>
    public IReadOnlyList<RouteConfig> Routes { get; init; } = ConfigList<RouteConfig>.Empty;

    /// <summary>Retry policy of routes that have none; null means <see cref="DefaultRetries"/>.</summary>
    public RetryConfig? Retries { get; init; }

    /// <summary>Whole-request deadline of routes that have none; null means none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// Whether HTTP/1.1 requests from the app travel to a meshed destination (one with an <see cref="Identity"/>) as
    /// HTTP/2 streams, multiplexed over one connection per endpoint, the server sidecar giving its app HTTP/1.1 again.
    /// On by default; off for a destination whose sidecar is not this proxy (it would hand the app HTTP/2).
    /// </summary>
    public bool MultiplexHttp1 { get; init; } = true;

    /// <summary>
    /// The retry policy of a service that names none, close to Istio's default (two retries on connect failures,
    /// refused streams, gRPC UNAVAILABLE and CANCELLED, and 503) plus resets: of the connection to the server
    /// sidecar, and of the app's connection behind it, which the server sidecar answers with 502 (Envoy answers 503
    /// there, which Istio's default retries). Linkerd's budget bounds them (at most 20 % more requests plus 10 per second).
    /// </summary>
    public static RetryConfig DefaultRetries { get; } = new()
    {
        Attempts = 2,
        RetryOn = new ConfigList<string>(["connect-failure", "refused-stream", "reset", "unavailable", "cancelled", "retriable-status-codes"]),
        StatusCodes = new ConfigList<int>([502, 503]),
    };
}
