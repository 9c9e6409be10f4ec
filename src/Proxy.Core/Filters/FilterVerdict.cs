using Proxy.Forwarding;

namespace Proxy.Filters;

/// <summary>
/// What a filter made of a request: wait <see cref="Delay"/> (an injected fault), then either pass it on
/// (<see cref="Status"/> 0) or answer it with <see cref="Status"/> and <see cref="Flag"/>.
/// </summary>
public readonly record struct FilterVerdict(int Status, ResponseFlag Flag, TimeSpan Delay)
{
    /// <summary>Pass on at once.</summary>
    public static FilterVerdict Continue => default;

    /// <summary>Answer at once with <paramref name="status"/> and <paramref name="flag"/>.</summary>
    public static FilterVerdict Answer(int status, ResponseFlag flag) => new(status, flag, TimeSpan.Zero);

    /// <summary>True when the request passes on at once: no delay, no answer.</summary>
    public bool IsContinue => Status == 0 && Delay <= TimeSpan.Zero;
}
