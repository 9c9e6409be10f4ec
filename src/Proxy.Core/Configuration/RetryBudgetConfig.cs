namespace Proxy.Configuration;

/// <summary>Caps retries to a share of requests, so retries cannot multiply an overload.</summary>
public sealed record RetryBudgetConfig
{
    /// <summary>
    /// The budget a route with <c>retries</c> gets when it names none (linkerd2-proxy's default), so
    /// retries against a failing cluster add at most a fifth of the load instead of multiplying it.
    /// </summary>
    public static RetryBudgetConfig Default { get; } = new();

    /// <summary>Retries allowed as a fraction of active requests (default 0.2).</summary>
    public double Ratio { get; init; } = 0.2;

    /// <summary>Retries per second always allowed, whatever the ratio (default 10).</summary>
    public int MinPerSecond { get; init; } = 10;
}
