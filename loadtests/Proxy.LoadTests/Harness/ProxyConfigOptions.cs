namespace Proxy.LoadTests.Harness;

/// <summary>The knobs scenarios turn on the generated proxy config.</summary>
public sealed record ProxyConfigOptions
{
    /// <summary>The cluster's <c>load_balancer</c>.</summary>
    public string LoadBalancer { get; init; } = "round_robin";

    /// <summary>When set, the http route's <c>retries</c> mapping (flow YAML), e.g. "{ attempts: 3, retry_on: [connect-failure, reset] }".</summary>
    public string? Retries { get; init; }

    /// <summary>When set, the http listener's <c>limits.header_timeout</c>, e.g. "3s".</summary>
    public string? HeaderTimeout { get; init; }

    /// <summary>Rotates the endpoint list by this many places (a harmless change for reload tests).</summary>
    public int EndpointRotation { get; init; }

    /// <summary>The <c>log.level</c>.</summary>
    public string LogLevel { get; init; } = "warn";
}
