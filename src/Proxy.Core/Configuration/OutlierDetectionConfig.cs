namespace Proxy.Configuration;

/// <summary>Ejects endpoints that keep failing, for a growing time.</summary>
public sealed record OutlierDetectionConfig
{
    /// <summary>Consecutive 5xx responses that eject an endpoint (default 5; 0 disables).</summary>
    public int Consecutive5xx { get; init; } = 5;

    /// <summary>Consecutive 502/503/504 or connect failures that eject (default 0, disabled).</summary>
    public int ConsecutiveGatewayErrors { get; init; }

    /// <summary>How often ejections are reviewed (default 10s).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First ejection time, multiplied by the number of ejections (default 30s).</summary>
    public TimeSpan BaseEjectionTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most endpoints ejected at once, as a percentage (default 10).</summary>
    public double MaxEjectionPercent { get; init; } = 10;
}
