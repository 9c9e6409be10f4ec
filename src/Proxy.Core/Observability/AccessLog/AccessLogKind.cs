namespace Proxy.Observability.AccessLog;

/// <summary>What an access log entry describes.</summary>
public enum AccessLogKind : byte
{
    /// <summary>One HTTP request and its response.</summary>
    Http,

    /// <summary>One forwarded TCP connection (stream).</summary>
    Tcp,
}
