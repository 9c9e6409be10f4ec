namespace Proxy.Configuration;

/// <summary>Active health checking of a cluster's endpoints.</summary>
public sealed record HealthCheckConfig
{
    /// <summary>http or tcp (default http).</summary>
    public HealthCheckType Type { get; init; } = HealthCheckType.Http;

    /// <summary>Path requested by http checks (default /); null for tcp.</summary>
    public string? Path { get; init; }

    /// <summary>Time between checks (default 5s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time a check may take (default 1s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Successes that make an unhealthy endpoint healthy (default 2).</summary>
    public int HealthyThreshold { get; init; } = 2;

    /// <summary>Failures that make a healthy endpoint unhealthy (default 3).</summary>
    public int UnhealthyThreshold { get; init; } = 3;

    /// <summary>Statuses counted healthy; empty means any 2xx.</summary>
    public IReadOnlyList<int> ExpectedStatuses { get; init; } = ConfigList<int>.Empty;
}
