namespace Proxy.Configuration;

/// <summary>Answers a share of requests with a status instead of forwarding them.</summary>
public sealed record FaultAbortConfig
{
    /// <summary>The status to answer with.</summary>
    public required int Status { get; init; }

    /// <summary>Share of requests aborted, 0-100 (default 100).</summary>
    public double Percent { get; init; } = 100;
}
