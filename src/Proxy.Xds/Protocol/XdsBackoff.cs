namespace Proxy.Xds.Protocol;

/// <summary>
/// Jittered exponential backoff between ADS stream attempts: the n-th wait is drawn uniformly from
/// [ceiling/2, ceiling], where the ceiling doubles from 0.5 s up to 30 s (Envoy's retry policy for its xDS streams
/// starts at 500 ms and stops growing at 30 s). A stream that got a response resets it.
/// </summary>
public sealed class XdsBackoff(Random? random = null)
{
    public static readonly TimeSpan Base = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    private readonly Random _random = random ?? Random.Shared;
    private int _failures;

    /// <summary>The wait before the next attempt; each call counts one more failure.</summary>
    public TimeSpan Next()
    {
        var ceiling = Base.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 16));
        ceiling = Math.Min(ceiling, Max.TotalMilliseconds);
        _failures++;
        return TimeSpan.FromMilliseconds(ceiling / 2 + _random.NextDouble() * ceiling / 2);
    }

    public void Reset() => _failures = 0;
}
