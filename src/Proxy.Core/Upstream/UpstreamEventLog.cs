using Proxy.Observability;

namespace Proxy.Upstream;

/// <summary>
/// The process log of one cluster's upstream events: failed connects and TLS handshakes (with the reason: refused,
/// timeout, DNS, certificate not trusted, name mismatch, expired...), active health changes and outlier ejections.
/// Failures are rate-limited per endpoint (<see cref="EndpointLines"/> a window) and per cluster
/// (<see cref="ClusterLines"/>), so a dead upstream under load writes a few lines, not one per request; a refused
/// event costs two interlocked operations and allocates nothing. Lines go through the logger's bounded channel, so
/// the request path never waits for stderr. Health and ejection changes are rare state changes and always written.
/// </summary>
public sealed class UpstreamEventLog
{
    /// <summary>Failure lines one endpoint may write per window.</summary>
    public const int EndpointLines = 1;

    /// <summary>Failure lines one cluster (all its endpoints) may write per window.</summary>
    public const int ClusterLines = 20;

    /// <summary>The rate-limit window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly Logger? _log;
    private readonly LogRateLimit _clusterLimit = new(ClusterLines, Window);

    public UpstreamEventLog(Logger? log, string cluster)
    {
        _log = log;
        Cluster = cluster;
    }

    /// <summary>Writes nothing (endpoints made outside a snapshot, tests).</summary>
    public static UpstreamEventLog None { get; } = new(null, "");

    /// <summary>The cluster's name.</summary>
    public string Cluster { get; }

    /// <summary>Whether a failure of <paramref name="endpoint"/> may be written now; when true, pass <paramref name="suppressed"/> on.</summary>
    public bool ShouldLogFailure(Endpoint endpoint, out int suppressed)
    {
        suppressed = 0;
        if (_log is null || !_log.IsEnabled(LogLevel.Warn))
        {
            return false;
        }

        var now = Environment.TickCount64;
        if (!endpoint.FailureLogLimit.TryAcquire(now, out var endpointSuppressed))
        {
            return false;
        }

        if (!_clusterLimit.TryAcquire(now, out _))
        {
            return false;
        }

        suppressed = endpointSuppressed;
        return true;
    }

    /// <summary>A connect or TLS handshake to <paramref name="endpoint"/> failed; call after <see cref="ShouldLogFailure"/> allowed it.</summary>
    public void ConnectFailed(Endpoint endpoint, string stage, string reason, int suppressed) =>
        _log?.Warn($"upstream {stage} failed", ("cluster", Cluster), ("endpoint", endpoint.Authority), ("reason", reason), ("suppressed", suppressed));

    /// <summary>The active health check took <paramref name="endpoint"/> out of rotation, or put it back.</summary>
    public void HealthChanged(Endpoint endpoint, bool healthy, string reason)
    {
        if (healthy)
        {
            _log?.Info("upstream endpoint healthy again", ("cluster", Cluster), ("endpoint", endpoint.Authority), ("reason", reason));
        }
        else
        {
            _log?.Warn("upstream endpoint unhealthy: out of rotation", ("cluster", Cluster), ("endpoint", endpoint.Authority), ("reason", reason));
        }
    }

    /// <summary>Outlier detection ejected <paramref name="endpoint"/> for <paramref name="duration"/>.</summary>
    public void Ejected(Endpoint endpoint, string reason, TimeSpan duration) =>
        _log?.Warn("upstream endpoint ejected: out of rotation", ("cluster", Cluster), ("endpoint", endpoint.Authority), ("reason", reason), ("for_ms", (long)duration.TotalMilliseconds));

    /// <summary>An ejection of <paramref name="endpoint"/> ended.</summary>
    public void Returned(Endpoint endpoint) =>
        _log?.Info("upstream endpoint back from ejection", ("cluster", Cluster), ("endpoint", endpoint.Authority));
}
