namespace Proxy.Observability;

/// <summary>Severity of a log line; lines below the configured level are dropped before formatting.</summary>
public enum LogLevel
{
    Debug,
    Info,
    Warn,
    Error,
}
