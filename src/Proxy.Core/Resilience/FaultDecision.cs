namespace Proxy.Resilience;

/// <summary>
/// What <see cref="FaultInjector.Decide"/> chose for one request: a delay before forwarding (zero for none)
/// and then an abort status instead of forwarding (0 for none). Both may apply: delay first, then abort.
/// </summary>
public readonly record struct FaultDecision(TimeSpan Delay, int AbortStatus)
{
    /// <summary>No fault.</summary>
    public static FaultDecision None => default;

    /// <summary>True when neither a delay nor an abort applies.</summary>
    public bool IsNone => Delay <= TimeSpan.Zero && AbortStatus == 0;
}
