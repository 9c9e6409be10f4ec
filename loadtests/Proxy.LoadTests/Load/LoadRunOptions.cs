namespace Proxy.LoadTests.Load;

/// <summary>Bounds shared by the load runners, so every run stops by itself.</summary>
public sealed record LoadRunOptions
{
    /// <summary>A request with no answer after this long is counted as lost and its connection dropped.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After the schedule ends, queued requests still waiting for a connection this long are counted as unsent.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
