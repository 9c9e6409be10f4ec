namespace Proxy.Configuration;

/// <summary>A named set of endpoints with one load-balancing policy and its connection settings.</summary>
public sealed record ClusterConfig
{
    /// <summary>Unique name, referenced by routes; also the metrics label.</summary>
    public required string Name { get; init; }

    /// <summary>The endpoints (at least one).</summary>
    public IReadOnlyList<EndpointConfig> Endpoints { get; init; } = ConfigList<EndpointConfig>.Empty;

    /// <summary>HTTP version to the endpoints (default http1).</summary>
    public ClusterProtocol Protocol { get; init; } = ClusterProtocol.Http1;

    /// <summary>Picker name (default round_robin).</summary>
    public string LoadBalancer { get; init; } = "round_robin";

    /// <summary>Hash key for ring_hash and maglev: <c>header:NAME</c> or <c>client_ip</c>; null means client_ip.</summary>
    public string? HashOn { get; init; }

    /// <summary>Upstream connect timeout (default 1s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Idle timeout of forwarded TCP streams (default 1h).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Connection pool settings.</summary>
    public PoolConfig Pool { get; init; } = new();

    /// <summary>TLS to the endpoints; null for plain text.</summary>
    public TlsClientConfig? Tls { get; init; }

    /// <summary>Circuit breaker limits; null for none.</summary>
    public CircuitBreakerConfig? CircuitBreaker { get; init; }

    /// <summary>Passive health (ejection after errors); null for none.</summary>
    public OutlierDetectionConfig? OutlierDetection { get; init; }

    /// <summary>Active health checks; null for none.</summary>
    public HealthCheckConfig? HealthCheck { get; init; }

    /// <summary>
    /// Envoy's <c>ORIGINAL_DST</c> cluster: no configured endpoints; each connection (and each request on it) goes to
    /// where the client's connection was going before interception redirected it to the proxy (the accepted address
    /// when it was not redirected). Null for an ordinary cluster.
    /// </summary>
    public OriginalDestinationConfig? OriginalDestination { get; init; }

    /// <summary>The local address upstream connections are made from (Envoy's <c>upstream_bind_config</c>); null lets the kernel choose.</summary>
    public System.Net.IPAddress? SourceAddress { get; init; }
}
