namespace Proxy.Forwarding;

/// <summary>
/// What <see cref="RouteAdmission.Decide"/> made of a routed request: wait <see cref="Delay"/> (an injected fault),
/// then either forward it (<see cref="Status"/> 0) or answer it with <see cref="Status"/> and <see cref="Flag"/>.
/// </summary>
internal readonly record struct Admission(int Status, ResponseFlag Flag, TimeSpan Delay)
{
    /// <summary>Forward at once: the state of every request on a route without rate limits or faults.</summary>
    public static Admission Forward => default;

    /// <summary>A token bucket was empty: 429 <c>RL</c>.</summary>
    public static Admission RateLimited => new(429, ResponseFlag.RateLimited, TimeSpan.Zero);

    /// <summary>True when the request is forwarded at once: no delay, no answer.</summary>
    public bool IsForward => Status == 0 && Delay <= TimeSpan.Zero;
}
