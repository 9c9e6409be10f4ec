using Proxy.Configuration.Files;
using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>
/// Hand-written binding of the node tree onto the config model (no reflection, for native AOT).
/// Every method reports what it finds wrong and carries on with defaults, so one pass lists
/// every error; cross-references (cluster names, duplicate listeners) are checked at the end.
/// This file holds the root, admin and log sections; the others live in ConfigBinder.*.cs.
/// </summary>
internal static partial class ConfigBinder
{
    private static readonly string[] RootKeys = ["admin", "stats", "listeners", "clusters", "mesh", "log", "drain_timeout", "drain_time", "tracing", "xds"];
    private static readonly string[] TracingKeys = ["collector", "service_name", "sample_percent"];
    private static readonly string[] AdminKeys = ["address", "allow_remote_control"];
    private static readonly string[] StatsKeys = ["address"];
    private static readonly string[] LogKeys = ["format", "level", "access_log", "access_log_format"];
    private static readonly string[] LogFormats = ["text", "json"];
    private static readonly string[] LogLevels = ["debug", "info", "warn", "error"];

    /// <summary>Binds and validates the whole document; the result is meaningful only without errors.</summary>
    public static ProxyConfig? Bind(BindContext ctx, ConfigNode root)
    {
        var map = MappingView.Open(ctx, root, "", RootKeys);
        if (map is null)
        {
            return null;
        }
        var config = new ProxyConfig
        {
            Admin = map.Get("admin") is { } admin ? BindAdmin(ctx, admin, "admin") : new AdminConfig(),
            Stats = map.Get("stats") is { } stats ? BindStats(ctx, stats, "stats") : null,
            Listeners = map.Get("listeners") is { } listeners ? BindListeners(ctx, listeners, "listeners") : ConfigList<ListenerConfig>.Empty,
            Clusters = map.Get("clusters") is { } clusters ? BindClusters(ctx, clusters, "clusters") : ConfigList<ClusterConfig>.Empty,
            Mesh = map.Get("mesh") is { } mesh ? BindMesh(ctx, mesh, "mesh") : null,
            Log = map.Get("log") is { } log ? BindLog(ctx, log, "log") : new LogConfig(),
            DrainTime = map.Duration("drain_time", TimeSpan.FromSeconds(5), positive: false),
            DrainTimeout = map.Duration("drain_timeout", TimeSpan.FromSeconds(5), positive: false),
            Tracing = map.Get("tracing") is { } tracing ? BindTracing(ctx, tracing, "tracing") : new TracingConfig(),
            Xds = map.Get("xds") is { } xds ? BindXds(ctx, xds, "xds") : null,
        };
        config = config with { ReferencedClusters = ReferencedClusterNames(ctx) };
        // With clusters from a management server, a route may name one the file does not define: it serves 503s
        // (no healthy endpoint) until the server sends that cluster.
        if (config.Xds is not { Clusters: true })
        {
            CheckClusterReferences(ctx, config.Clusters);
        }

        CheckStatsAddress(ctx, map.Node, config);
        return config;
    }

    private static AdminConfig BindAdmin(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, AdminKeys);
        var defaults = new AdminConfig();
        return map is null ? defaults : new AdminConfig
        {
            Address = map.Address("address", required: false) ?? defaults.Address,
            AllowRemoteControl = map.Bool("allow_remote_control", defaults.AllowRemoteControl),
        };
    }

    private static StatsConfig? BindStats(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, StatsKeys);
        return map?.Address("address", required: true) is { } address ? new StatsConfig { Address = address } : null;
    }

    /// <summary>The stats listener needs a port of its own, apart from the admin server's and every listener's.</summary>
    private static void CheckStatsAddress(BindContext ctx, ConfigMapping root, ProxyConfig config)
    {
        if (config.Stats is not { } stats || root.Find("stats") is not ConfigMapping statsNode || statsNode.Find("address") is not { } at)
        {
            return;
        }
        if (AddressesClash(stats.Address, config.Admin.Address))
        {
            ctx.Error(at, "stats.address", $"address {stats.Address} clashes with the admin server's ({config.Admin.Address})");
        }
        foreach (var listener in config.Listeners)
        {
            if (AddressesClash(stats.Address, listener.Address))
            {
                ctx.Error(at, "stats.address", $"address {stats.Address} clashes with listener '{listener.Name}' ({listener.Address})");
            }
        }
    }

    private static LogConfig BindLog(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, LogKeys);
        var defaults = new LogConfig();
        if (map is null)
        {
            return defaults;
        }
        string? accessLog = map.String("access_log") switch
        {
            null or "none" => null,
            "stdout" => "stdout",
            string file => ctx.ResolveFile(file),
        };
        if (accessLog is not null and not "stdout" && ctx.Options.CheckFiles)
        {
            ConfiguredFiles.CheckLogFile(map, "access_log", accessLog);
        }

        var accessLogFormat = map.String("access_log_format");
        if (accessLogFormat is not null)
        {
            if (!Observability.AccessLog.AccessLogFormat.TryCompile(accessLogFormat, out _, out var formatError))
            {
                map.Error("access_log_format", formatError!);
            }
            else if (accessLog is null)
            {
                map.Error("access_log_format", "a format needs an access log: set access_log to stdout or a file");
            }
        }

        return new LogConfig
        {
            Format = map.Word("format", defaults.Format, LogFormats),
            Level = map.Word("level", defaults.Level, LogLevels),
            AccessLog = accessLog,
            AccessLogFormat = accessLogFormat,
        };
    }

    private static TracingConfig BindTracing(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, TracingKeys);
        var defaults = new TracingConfig();
        if (map is null)
        {
            return defaults;
        }

        var collector = map.String("collector");
        if (collector is not null && (!Uri.TryCreate(collector, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            map.Error("collector", $"'{collector}' is not an http:// or https:// URL");
        }

        return new TracingConfig
        {
            Collector = collector,
            ServiceName = map.String("service_name") ?? defaults.ServiceName,
            SamplePercent = map.Double("sample_percent", defaults.SamplePercent, 0, 100),
        };
    }

    private static void CheckClusterReferences(BindContext ctx, IReadOnlyList<ClusterConfig> clusters)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cluster in clusters)
        {
            names.Add(cluster.Name);
        }
        foreach (var (name, node, path) in ctx.ClusterReferences)
        {
            if (!names.Contains(name))
            {
                ctx.Error(node, path, names.Count == 0
                    ? $"unknown cluster '{name}' (no clusters are defined)"
                    : $"unknown cluster '{name}'; defined clusters: {string.Join(", ", names)}");
            }
        }
    }

    /// <summary>Each cluster name the file refers to, once, in order of first mention.</summary>
    private static ConfigList<string> ReferencedClusterNames(BindContext ctx)
    {
        var names = new List<string>();
        foreach (var (name, _, _) in ctx.ClusterReferences)
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }

        return ConfigList<string>.From(names);
    }

    /// <summary>Binds each item of a sequence with <paramref name="bind"/>, skipping items that failed.</summary>
    private static ConfigList<T> BindList<T>(BindContext ctx, ConfigNode node, string path, Func<BindContext, ConfigNode, string, T?> bind)
        where T : class
    {
        var items = ctx.ReadSequence(node, path);
        if (items is null)
        {
            return ConfigList<T>.Empty;
        }
        var list = new List<T>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            if (bind(ctx, items[i], BindContext.Index(path, i)) is { } item)
            {
                list.Add(item);
            }
        }
        return ConfigList<T>.From(list);
    }

    /// <summary>True for an HTTP token (RFC 9110 section 5.6.2): header names and methods.</summary>
    private static bool IsToken(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }
        foreach (char c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return true;
    }
}
