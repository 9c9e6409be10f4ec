namespace Proxy.Http.Http2;

/// <summary>
/// The thresholds of <see cref="Http2FloodGuard"/>. The defaults leave room for every well-behaved client seen in
/// practice (browsers, gRPC, h2load) and stop the published attacks within a few hundred frames.
/// </summary>
public sealed record Http2FloodLimits
{
    /// <summary>Length of the counting window of the rate limits, in milliseconds.</summary>
    public int WindowMilliseconds { get; init; } = 10_000;

    /// <summary>Client resets in one window from which rapid reset is checked.</summary>
    public int MaxResetsPerWindow { get; init; } = 200;

    /// <summary>CONTINUATION frames allowed in one field block.</summary>
    public int MaxContinuationFrames { get; init; } = 32;

    /// <summary>Oversized header lists (answered 431) allowed per connection.</summary>
    public int MaxOversizedHeaderLists { get; init; } = 4;

    /// <summary>SETTINGS frames (not ACKs) allowed per window.</summary>
    public int MaxSettingsPerWindow { get; init; } = 100;

    /// <summary>PING frames (not ACKs) allowed per window.</summary>
    public int MaxPingsPerWindow { get; init; } = 100;

    /// <summary>Consecutive frames without payload and without END_STREAM (Envoy allows 1 by default).</summary>
    public int MaxConsecutiveEmptyFrames { get; init; } = 16;

    /// <summary>WINDOW_UPDATE frames allowed before data was sent; more are allowed per DATA frame sent.</summary>
    public int WindowUpdateAllowance { get; init; } = 1000;

    /// <summary>WINDOW_UPDATE frames allowed per DATA frame this side sent.</summary>
    public int WindowUpdatesPerDataFrame { get; init; } = 10;

    /// <summary>Streams refused for exceeding SETTINGS_MAX_CONCURRENT_STREAMS allowed per window.</summary>
    public int MaxRefusedStreamsPerWindow { get; init; } = 100;

    /// <summary>The defaults.</summary>
    public static Http2FloodLimits Default { get; } = new();
}
