namespace Proxy.Resilience;

/// <summary>The result of one active health probe.</summary>
public enum HealthProbeResult : byte
{
    /// <summary>Connected (tcp) or answered with an expected status (http).</summary>
    Healthy,

    /// <summary>Answered with a status that is not expected.</summary>
    UnexpectedStatus,

    /// <summary>The connection was refused or failed.</summary>
    ConnectFailed,

    /// <summary>No (complete) answer within the timeout.</summary>
    Timeout,

    /// <summary>The answer was not an HTTP/1.x status line, or the connection closed before one.</summary>
    BadResponse,
}
