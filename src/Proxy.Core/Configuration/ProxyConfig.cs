namespace Proxy.Configuration;

/// <summary>The whole validated configuration file: the root of the config model (no runtime state).</summary>
public sealed record ProxyConfig
{
    /// <summary>The admin server (<c>admin</c>).</summary>
    public AdminConfig Admin { get; init; } = new();

    /// <summary>The stats-only listener; null when there is none (<c>stats</c>).</summary>
    public StatsConfig? Stats { get; init; }

    /// <summary>The listeners, in file order (<c>listeners</c>).</summary>
    public IReadOnlyList<ListenerConfig> Listeners { get; init; } = ConfigList<ListenerConfig>.Empty;

    /// <summary>The clusters, in file order (<c>clusters</c>).</summary>
    public IReadOnlyList<ClusterConfig> Clusters { get; init; } = ConfigList<ClusterConfig>.Empty;

    /// <summary>Sidecar settings; null when running as a plain reverse proxy (<c>mesh</c>).</summary>
    public MeshConfig? Mesh { get; init; }

    /// <summary>Process and access logging (<c>log</c>).</summary>
    public LogConfig Log { get; init; } = new();

    /// <summary>
    /// How long listeners keep accepting once a drain starts (<c>drain_time</c>, Envoy's <c>--drain-time-s</c>,
    /// default 5s): every connection, old or new, is asked to close after its current request meanwhile.
    /// </summary>
    public TimeSpan DrainTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long in-flight work may finish once the listeners closed (<c>drain_timeout</c>, default 5s).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Trace propagation and export.</summary>
    public TracingConfig Tracing { get; init; } = new();

    /// <summary>The management server resources come from beside the file's; null when there is none (<c>xds</c>).</summary>
    public XdsConfig? Xds { get; init; }

    /// <summary>
    /// Every cluster name the file's listeners, routes and services name, once each. With <see cref="Xds"/>, the
    /// names no file cluster defines are the clusters expected from the management server.
    /// </summary>
    public IReadOnlyList<string> ReferencedClusters { get; init; } = ConfigList<string>.Empty;
}
