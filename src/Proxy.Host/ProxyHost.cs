using System.Net;
using Proxy.Buffers;
using Proxy.Configuration;
using Proxy.Host.Admin;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Host;

/// <summary>
/// The composition root of a running proxy: configuration source, runtime, admin server, reloads
/// and drain. The CLI wraps it with signals; end-to-end tests start it in-process.
/// </summary>
public sealed class ProxyHost : IAsyncDisposable
{
    private readonly string? _configPath;
    private readonly Logger _log;
    private readonly ProxyMetrics _metrics;
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _startTime = DateTimeOffset.UtcNow;
    private AdminServer? _admin;
    private AdminServer? _stats;
    private ConfigFileWatcher? _watcher;
    private string? _lastText;
    private int _drainStarted;

    // With an xds section: the management server's resources, and the file's configuration they are composed with.
    private Xds.XdsSource? _xds;
    private ProxyConfig? _fileConfig;

    private ProxyHost(string? configPath, Logger log, MetricsRegistry registry, TimeProvider? time)
    {
        _configPath = configPath;
        _log = log;
        Registry = registry;
        _metrics = new ProxyMetrics(registry);
        Runtime = new ProxyRuntime(_metrics, log, time);
        ProcessMetrics.Register(registry);
        IdleMemoryTrimmer.Start(); // memory a burst took goes back once it is over
    }

    public ProxyRuntime Runtime { get; }

    public MetricsRegistry Registry { get; }

    public IPEndPoint AdminAddress => _admin!.LocalEndPoint;

    /// <summary>Where the stats-only listener is bound; null without <c>stats</c>.</summary>
    public IPEndPoint? StatsAddress => _stats?.LocalEndPoint;

    /// <summary>Completes when a drain (SIGTERM or POST /drain) has finished.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Completes when the process should exit: a shutdown was asked for and the drain is done.</summary>
    public Task ShutdownCompleted => _shutdown.Task;

    /// <summary>SIGUSR1: reopen the access log file (after logrotate moved it away); nothing when it goes to stdout.</summary>
    public void ReopenAccessLog()
    {
        if (Runtime.Telemetry.AccessLog is { } accessLog)
        {
            accessLog.RequestReopen();
            _log.Info("access log reopen requested");
        }
    }

    /// <summary>SIGTERM: drain (if not already draining), then complete <see cref="ShutdownCompleted"/>.</summary>
    public async Task RequestShutdownAsync()
    {
        await BeginDrainAsync().ConfigureAwait(false);
        await Drained.ConfigureAwait(false);
        _shutdown.TrySetResult();
    }

    /// <summary>
    /// Loads the configuration (a file, or <paramref name="configText"/> when given), binds the
    /// listeners and the admin server. Throws <see cref="ConfigRejectedException"/> listing every
    /// error when the configuration is invalid. <paramref name="time"/> is for tests that script the forwarders' timers.
    /// </summary>
    public static async Task<ProxyHost> StartAsync(string? configPath, string? configText, Logger log, bool watchFile, TimeProvider? time = null)
    {
        // The files the configuration names are checked here, as by validate: a missing or mismatched
        // certificate is an error with its location, not a failure once listeners are half bound.
        var result = configText is not null
            ? ConfigLoader.LoadText(configText, configPath ?? "<embedded>", ConfigValidationOptions.ForRunning)
            : ConfigLoader.LoadFile(configPath!, ConfigValidationOptions.ForRunning);
        if (!result.Success)
        {
            throw new ConfigRejectedException(result.Errors);
        }

        var config = result.Config!;
        ApplyLogSettings(log, config.Log);
        var host = new ProxyHost(configText is null ? configPath : null, log, new MetricsRegistry(), time);
        host._lastText = configText ?? File.ReadAllText(configPath!);
        host._fileConfig = config;
        try
        {
            // The file's configuration serves at once; clusters from a management server join it as they arrive.
            var composed = config;
            if (config.Xds is { } xdsConfig)
            {
                host._xds = new Xds.XdsSource(xdsConfig, host.Registry, log, host.Runtime.Certificates, config.Mesh?.Identity);
                composed = host._xds.Compose(config, out _)!;
            }

            await host.Runtime.ApplyAsync(composed).ConfigureAwait(false);
            host.StartAdmin(config, configPath);
            host._xds?.Start(host.ApplyXdsAsync, host.ApplyXdsListenersAsync);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (watchFile && host._configPath is not null)
        {
            host.WatchConfigFile();
        }

        return host;
    }

    /// <summary>Binds the admin server and, when configured, the stats-only listener. Their addresses are read at start only.</summary>
    private void StartAdmin(ProxyConfig config, string? configPath)
    {
        var routes = new AdminRoutes(Runtime, Registry, _log, BeginDrainAsync, RequestShutdownAsync)
        {
            XdsDump = _xds is { } xds ? writer =>
            {
                xds.WriteConfigDump(writer, _fileConfig?.Clusters ?? []);
                xds.WriteListenersDump(writer, _fileConfig?.Listeners ?? []);
            } : null,
            ConfigPath = configPath,
            StartTimestamp = _startTimestamp,
            StartTime = _startTime,
        };
        try
        {
            _admin = new AdminServer(AddressResolver.ForBind(config.Admin.Address), routes.HandleAsync, _log);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new ListenerBindException([Transport.BindFailure.Describe("the admin server (admin.address)", config.Admin.Address.ToString(), ex)]);
        }

        _admin.Start();
        _log.Info("admin listening", ("address", _admin.LocalEndPoint));
        if (!IPAddress.IsLoopback(_admin.LocalEndPoint.Address))
        {
            // The admin API shows the configuration and certificates; anyone who reaches it reads them.
            _log.Warn("the admin server is bound to a non-loopback address: every client that reaches it can read the configuration and certificates; keep admin.address on 127.0.0.1 and give scrapers the stats listener (stats.address)",
                ("address", _admin.LocalEndPoint), ("remote_control", config.Admin.AllowRemoteControl ? "allowed" : "loopback only"));
        }

        if (config.Stats is { } stats)
        {
            try
            {
                _stats = new AdminServer(AddressResolver.ForBind(stats.Address), new StatsRoutes(Registry).HandleAsync, _log);
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                throw new ListenerBindException([Transport.BindFailure.Describe("the stats listener (stats.address)", stats.Address.ToString(), ex)]);
            }

            _stats.Start();
            _log.Info("stats listening", ("address", _stats.LocalEndPoint), ("paths", "/metrics /stats/prometheus"));
        }
    }

    private static void ApplyLogSettings(Logger log, LogConfig config)
    {
        log.Json = config.Format == "json" || log.Json;
        log.Level = config.Level switch
        {
            "debug" => LogLevel.Debug,
            "warn" => LogLevel.Warn,
            "error" => LogLevel.Error,
            _ => LogLevel.Info,
        };
    }

    /// <summary>
    /// Re-reads the configuration file and applies it. A file that fails validation or a listener
    /// that cannot bind leaves the running configuration untouched; every error is logged.
    /// Returns true when the new configuration is serving.
    /// </summary>
    public async Task<bool> ReloadAsync(bool onlyIfChanged = false)
    {
        if (_configPath is null)
        {
            return false;
        }

        await _reloadLock.WaitAsync().ConfigureAwait(false);
        try
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(_configPath).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Failed(FileReadError.Describe("the configuration file", _configPath, ex));
            }

            if (onlyIfChanged && text == _lastText)
            {
                return true;
            }

            var result = ConfigLoader.LoadText(text, _configPath, ConfigValidationOptions.ForRunning);
            if (!result.Success)
            {
                foreach (var error in result.Errors)
                {
                    _log.Error("config error", ("error", error.ToString()));
                }

                return Failed($"{result.Errors.Count} error(s); keeping the running configuration");
            }

            var composed = result.Config!;
            if (_xds is not null)
            {
                if (result.Config!.Xds != _xds.Config)
                {
                    _log.Warn("this reload changes or removes the xds section; the xDS client keeps the server, node and resource types it started with until the proxy restarts");
                }

                if (_xds.Compose(result.Config! with { Xds = _xds.Config }, out var clash) is not { } merged)
                {
                    return Failed(clash!);
                }

                composed = merged;
            }

            try
            {
                await Runtime.ApplyAsync(composed).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ListenerBindException or InvalidOperationException)
            {
                return Failed(ex.Message);
            }

            _fileConfig = result.Config;
            _lastText = text;
            ApplyLogSettings(_log, result.Config!.Log);
            _metrics.ConfigReloads.WithLabels("ok").Increment();
            _log.Info("config reloaded", ("file", _configPath), ("generation", Runtime.Current!.Generation));
            return true;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    /// <summary>
    /// Applies clusters from the management server beside the file's configuration, serialized with file reloads.
    /// Returns null once they serve, else the sentence the NACK carries.
    /// </summary>
    private async Task<string?> ApplyXdsAsync(IReadOnlyList<ClusterConfig> clusters)
    {
        await _reloadLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var file = _fileConfig! with { Xds = _xds!.Config };
            if (_xds.Compose(file, clusters, out var clash) is not { } composed)
            {
                return clash;
            }

            await Runtime.ApplyAsync(composed).ConfigureAwait(false);
            _xds.Serving(clusters);
            return null;
        }
        catch (Exception ex) when (ex is ListenerBindException or InvalidOperationException)
        {
            return ex.Message;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    /// <summary>
    /// Applies listeners from the management server beside the file's (and the server's clusters), serialized with file
    /// reloads; a listener that left is closed and its connections drain as on a reload that removes it. Returns null
    /// once they serve, else the sentence the NACK carries.
    /// </summary>
    private async Task<string?> ApplyXdsListenersAsync(Xds.XdsListenerSet listeners)
    {
        await _reloadLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var file = _fileConfig! with { Xds = _xds!.Config };
            if (_xds.ComposeListeners(file, listeners, out var clash) is not { } composed)
            {
                return clash;
            }

            await Runtime.ApplyAsync(composed).ConfigureAwait(false);
            _xds.ServingListeners(listeners);
            return null;
        }
        catch (Exception ex) when (ex is ListenerBindException or InvalidOperationException or Routing.RouteTableBuildException)
        {
            return ex.Message;
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    private bool Failed(string why)
    {
        _metrics.ConfigReloads.WithLabels("failed").Increment();
        _log.Error("config reload failed", ("reason", why));
        return false;
    }

    private void WatchConfigFile() => _watcher = new ConfigFileWatcher(_configPath!, () => _ = ReloadAsync(onlyIfChanged: true));

    /// <summary>
    /// Starts a drain once: /ready answers 503, connections are asked to close, listeners keep accepting for
    /// <c>drain_time</c> then close, live connections get <c>drain_timeout</c> more, then the rest are closed.
    /// <see cref="Drained"/> completes after.
    /// </summary>
    public Task BeginDrainAsync()
    {
        if (Interlocked.Exchange(ref _drainStarted, 1) == 0)
        {
            Runtime.BeginDrain();
            var timeout = Runtime.Current?.Config.DrainTimeout ?? TimeSpan.FromSeconds(5);
            var window = Runtime.Current?.Config.DrainTime ?? TimeSpan.Zero;
            _ = Task.Run(async () =>
            {
                var forced = await Runtime.DrainAsync(timeout, window).ConfigureAwait(false);
                _log.Info("drained", ("closed_by_force", forced));
                _drained.TrySetResult();
            });
        }

        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _watcher?.Dispose();
        if (_xds is not null)
        {
            await _xds.DisposeAsync().ConfigureAwait(false);
        }

        if (_admin is not null)
        {
            await _admin.DisposeAsync().ConfigureAwait(false);
        }

        if (_stats is not null)
        {
            await _stats.DisposeAsync().ConfigureAwait(false);
        }

        await Runtime.DisposeAsync().ConfigureAwait(false);
    }
}
