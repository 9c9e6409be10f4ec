namespace Proxy.Configuration;

/// <summary>A token bucket: a steady rate and a burst size.</summary>
public sealed record RateLimitConfig
{
    /// <summary>Tokens added per second.</summary>
    public required int RequestsPerSecond { get; init; }

    /// <summary>Bucket size (default: equal to <see cref="RequestsPerSecond"/>).</summary>
    public required int Burst { get; init; }
}
