namespace Proxy.Configuration;

/// <summary>How an active health check probes an endpoint.</summary>
public enum HealthCheckType
{
    /// <summary>An HTTP GET of a path; healthy when the status is expected.</summary>
    Http,

    /// <summary>A TCP connect; healthy when it succeeds.</summary>
    Tcp,
}
