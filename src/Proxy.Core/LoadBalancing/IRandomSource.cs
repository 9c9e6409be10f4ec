namespace Proxy.LoadBalancing;

/// <summary>
/// Randomness used by pickers, injected through <see cref="PickerOptions"/> so tests can script it.
/// Implementations must be thread-safe and allocation-free.
/// </summary>
public interface IRandomSource
{
    /// <summary>A uniformly distributed integer in [0, <paramref name="maxExclusive"/>); maxExclusive is at least 1.</summary>
    long Next(long maxExclusive);

    /// <summary>64 uniformly distributed bits (a hash key for requests that carry none).</summary>
    ulong NextUInt64();
}
