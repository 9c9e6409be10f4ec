namespace Proxy.Configuration;

/// <summary>Fault injection on a route, for testing resilience.</summary>
public sealed record FaultConfig
{
    /// <summary>Delay injection; null for none.</summary>
    public FaultDelayConfig? Delay { get; init; }

    /// <summary>Abort injection; null for none.</summary>
    public FaultAbortConfig? Abort { get; init; }

    /// <summary>When not empty, faults apply only to requests matching all of these headers.</summary>
    public IReadOnlyList<HeaderMatchConfig> Headers { get; init; } = ConfigList<HeaderMatchConfig>.Empty;

    /// <summary>
    /// Whether a request may ask for a fault itself with <c>x-proxy-fault-delay</c> / <c>x-proxy-fault-abort</c>
    /// (Envoy's header_abort / header_delay); off by default, so no client of an edge can delay or fail a route at will.
    /// </summary>
    public bool HeaderControl { get; init; }
}
