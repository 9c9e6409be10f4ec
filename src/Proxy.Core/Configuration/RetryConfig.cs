namespace Proxy.Configuration;

/// <summary>When and how often a failed request is retried.</summary>
public sealed record RetryConfig
{
    /// <summary>Retries after the first try (default 1).</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>Conditions that allow a retry (default connect-failure).</summary>
    public IReadOnlyList<string> RetryOn { get; init; } = new ConfigList<string>(["connect-failure"]);

    /// <summary>Statuses retried under <c>retriable-status-codes</c>.</summary>
    public IReadOnlyList<int> StatusCodes { get; init; } = ConfigList<int>.Empty;

    /// <summary>Timeout of each try; null means only the route timeout applies.</summary>
    public TimeSpan? PerTryTimeout { get; init; }

    /// <summary>First backoff (default 25ms); doubles per retry, with jitter.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Backoff ceiling (default 250ms).</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Retry budget; Linkerd's default (20 % of requests plus 10 per second) unless the route says
    /// <c>budget: none</c>, which is null here (then only <see cref="Attempts"/> bounds retries).
    /// </summary>
    public RetryBudgetConfig? Budget { get; init; } = RetryBudgetConfig.Default;
}
