namespace Proxy.Configuration;

/// <summary>Delays a share of requests before forwarding them.</summary>
public sealed record FaultDelayConfig
{
    /// <summary>The added delay.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Share of requests delayed, 0-100 (default 100).</summary>
    public double Percent { get; init; } = 100;
}
