namespace Proxy.Configuration;

/// <summary>
/// Names only known at runtime that validation checks against, so a typo fails at load
/// rather than at the first request (the picker registry passes its names here).
/// </summary>
public sealed record ConfigValidationOptions
{
    /// <summary>The built-in picker names.</summary>
    public static IReadOnlyCollection<string> BuiltInLoadBalancers { get; } =
        new ConfigList<string>(["round_robin", "random", "least_request", "peak_ewma", "ring_hash", "maglev"]);

    /// <summary>
    /// (Declared before <see cref="Default"/>, which reads it.) The names a listener's <c>http_filters</c> may hold: the built-in filters, and any the runtime's filter
    /// registry adds when a filter is registered (it writes here, so configuration needs no runtime type).
    /// </summary>
    public static HttpFilterNameSet KnownHttpFilters { get; } = new(["rate_limit", "fault", "mirror", "circuit_breaker"]);

    /// <summary>Options with the built-in names.</summary>
    public static ConfigValidationOptions Default { get; } = new();

    /// <summary>
    /// Options for a configuration about to run: <see cref="Default"/> plus <see cref="CheckFiles"/>
    /// (<c>proxy validate</c>, start and reload).
    /// </summary>
    public static ConfigValidationOptions ForRunning { get; } = new() { CheckFiles = true };

    /// <summary>
    /// Whether the files the configuration names (certificates, keys, CA bundles, the access log)
    /// are opened and checked: readable, parseable, each key matching its certificate. Off for
    /// configurations only inspected (tests of the format, examples with placeholder paths).
    /// </summary>
    public bool CheckFiles { get; init; }

    /// <summary>Accepted <c>load_balancer</c> values.</summary>
    public IReadOnlyCollection<string> LoadBalancers { get; init; } = BuiltInLoadBalancers;

    /// <summary>Accepted <c>http_filters</c> names.</summary>
    public IReadOnlyCollection<string> HttpFilters { get; init; } = KnownHttpFilters;
}
