namespace Proxy.Configuration;

/// <summary>Bounds on downstream HTTP requests; exceeding them gives 431, 414 or 413, or 408 for slow headers.</summary>
public sealed record HttpLimitsConfig
{
    /// <summary>Largest total size of the request line and headers (default 64 KiB).</summary>
    public int MaxHeaderBytes { get; init; } = 64 * 1024;

    /// <summary>Largest request target (path and query) (default 8 KiB).</summary>
    public int MaxRequestTargetBytes { get; init; } = 8 * 1024;

    /// <summary>Largest request body; 0 means unlimited (default).</summary>
    public long MaxBodyBytes { get; init; }

    /// <summary>Time allowed to receive the complete request headers (default 10s).</summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
