using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Proxy.Configuration;
using Proxy.Forwarding;
using Proxy.Observability;
using Proxy.Tcp;
using Proxy.Tls;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// The running proxy: the current snapshot, the bound listeners and the live connections. A reload
/// binds any new listener addresses first, then swaps the snapshot atomically, then closes the
/// listeners that went away; if a bind fails, nothing changes and the old configuration keeps
/// serving.
/// </summary>
public sealed class ProxyRuntime : IAsyncDisposable
{
    private readonly ProxyMetrics _metrics;
    private readonly Logger _log;
    private readonly SemaphoreSlim _applyLock = new(1, 1);
    private readonly Dictionary<string, Listener> _listeners = new(StringComparer.Ordinal);
    private ProxySnapshot? _snapshot;
    /// <summary>Says why clients' TLS handshakes fail, rate-limited (edge listeners and the mesh inbound side).</summary>
    internal Tls.DownstreamHandshakeLog HandshakeLog => _handshakeLog ??= new Tls.DownstreamHandshakeLog(_log);

    private Tls.DownstreamHandshakeLog? _handshakeLog;
    private Inbound.MeshSidecar? _mesh;
    private volatile bool _draining;

    /// <param name="time">
    /// The clock and timers of the forwarders' response-head timeouts; the system's unless a test scripts them.
    /// </param>
    public ProxyRuntime(ProxyMetrics metrics, Logger log, TimeProvider? time = null)
    {
        _metrics = metrics;
        _log = log;
        Time = time ?? TimeProvider.System;
        TlsMetrics = new TlsMetrics(metrics.Registry);
        _poolSweeper = new Timer(static state => ((ProxyRuntime)state!).SweepPools(), this, PoolSweepPeriod, PoolSweepPeriod);
    }

    /// <summary>The clock and timers the forwarders' response-head timeouts use.</summary>
    public TimeProvider Time { get; }

    /// <summary>How often idle upstream connections are checked for expiry or an upstream close.</summary>
    public static readonly TimeSpan PoolSweepPeriod = TimeSpan.FromSeconds(1);

    private readonly Timer _poolSweeper;
    private int _ticks;

    /// <summary>The access log and trace exporter (set up by the first configuration that asks for them).</summary>
    public RequestTelemetry Telemetry { get; private set; } = RequestTelemetry.None;

    /// <summary>Once a second: outlier ejections expire; every fifth tick, idle pooled connections (HTTP/1.1 and HTTP/2) are checked.</summary>
    private void SweepPools()
    {
        if (Current is not { } snapshot)
        {
            return;
        }

        // The sidecar's outbound services have clusters of their own (one per identity and upstream protocol).
        bool sweep = ++_ticks % 5 == 0;
        var now = Environment.TickCount64;
        foreach (var cluster in snapshot.Clusters.Values)
        {
            SweepCluster(cluster, sweep, now);
        }

        if (Mesh is { } mesh)
        {
            foreach (var cluster in mesh.OutboundClusters)
            {
                SweepCluster(cluster, sweep, now);
            }
        }
    }

    private static void SweepCluster(Cluster cluster, bool sweep, long now)
    {
        cluster.Resilience.Outliers?.Tick();
        long idle = 0;
        foreach (var endpoint in cluster.Endpoints)
        {
            idle += endpoint.HasPool ? endpoint.Pool.IdleCount : 0;
            if (sweep)
            {
                if (endpoint.HasPool)
                {
                    endpoint.Pool.Sweep(now);
                }

                endpoint.Http2Pool?.Sweep(now);
            }
        }

        cluster.Metrics.PoolIdle.Set(idle);
    }

    /// <summary>TLS files of every listener and cluster, polled for rotation.</summary>
    public CertificateStore Certificates { get; } = new(CertificateStore.DefaultPollInterval);

    /// <summary>Handshake outcomes per listener.</summary>
    public TlsMetrics TlsMetrics { get; }

    public ProxySnapshot? Current => Volatile.Read(ref _snapshot);

    /// <summary>
    /// The current routes of listener <paramref name="name"/> as a delegate, made once per name, for connections that
    /// follow reloads and xDS updates per request.
    /// </summary>
    public Func<HttpRouting?> RoutingSource(string name) => _routingSources.GetOrAdd(name, static (listener, runtime) =>
        () => runtime.Current is { } snapshot && snapshot.Listeners.TryGetValue(listener, out var running) ? running.Http : null, this);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<HttpRouting?>> _routingSources = new(StringComparer.Ordinal);

    public ConnectionTracker Connections { get; } = new();

    public ProxyMetrics Metrics => _metrics;

    /// <summary>Ready = a configuration is loaded, its listeners are bound, and we are not draining.</summary>
    public bool IsReady => Current is not null && !_draining;

    public bool IsDraining => _draining;

    /// <summary>The bound address of each listener (real ports when 0 was configured).</summary>
    public IReadOnlyDictionary<string, IPEndPoint> BoundAddresses
    {
        get
        {
            lock (_listeners)
            {
                return _listeners.ToDictionary(static l => l.Key, static l => l.Value.LocalEndPoint);
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="config"/> the running configuration. Throws <see cref="ListenerBindException"/>
    /// (with every failed address) when a new listener cannot bind; the previous snapshot then stays.
    /// </summary>
    public async Task ApplyAsync(ProxyConfig config)
    {
        await _applyLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_draining)
            {
                throw new InvalidOperationException("the proxy is draining; configuration changes are refused");
            }

            var snapshot = SnapshotCompiler.Compile(config, Current, _metrics, Certificates, _log);
            var previousSnapshot = Current;
            // Listeners that do not bind (bind_to_port: false) take only connections handed to them.
            var binding = config.Listeners.All(static l => l.Bind) ? config.Listeners : [.. config.Listeners.Where(static l => l.Bind)];
            var plan = await ListenerBindPlan.BindAsync(
                binding,
                _listeners,
                (name, address) => new Listener(name, address, new Dispatcher(this, name), snapshot.Listeners[name].Metrics.AcceptErrors, _log),
                (name, address) => new Listener(name, address, new Dispatcher(this, name), previousSnapshot!.Listeners[name].Metrics.AcceptErrors, _log)).ConfigureAwait(false);

            if (config.Mesh is { } meshConfig && _mesh is null)
            {
                // Sidecar listeners start with the first mesh configuration (their ports do not change on reload).
                try
                {
                    _mesh = Inbound.MeshSidecar.Start(meshConfig, snapshot, Certificates, _metrics, Connections, _log, () => Telemetry, HandshakeLog);
                }
                catch (ListenerBindException)
                {
                    await plan.AbandonAsync().ConfigureAwait(false);
                    throw;
                }
            }

            var previous = previousSnapshot;
            if (Telemetry == RequestTelemetry.None && (config.Log.AccessLog is not null || config.Tracing.Collector is not null))
            {
                Telemetry = RequestTelemetry.Create(config, _metrics.Resilience);
            }

            Volatile.Write(ref _snapshot, snapshot);

            if (_mesh is not null && config.Mesh is { } reloaded && previousSnapshot?.Config.Mesh is { } running)
            {
                // Both sides take a reload at once, as edge listeners do: outbound services, inbound mode, rules,
                // workload and detection. The listeners' ports and the identity's paths are bound once; say so rather
                // than seem to apply a change.
                _mesh.Update(reloaded, snapshot);
                if (Inbound.MeshSidecar.RestartOnlyChanges(running, reloaded) is { } restartOnly)
                {
                    _log.Warn($"this reload changes {restartOnly}, which the running sidecar keeps until it restarts; the rest of the mesh section took effect");
                }
            }

            // Active health checks belong to a snapshot: the new ones start, the old ones stop.
            foreach (var cluster in snapshot.Clusters.Values)
            {
                cluster.Resilience.HealthChecker?.Start();
            }

            if (previous is not null)
            {
                foreach (var cluster in previous.Clusters.Values)
                {
                    // A cluster carried over whole (an xDS update that did not touch it) keeps its running checks.
                    if (cluster.Resilience.HealthChecker is { } checker
                        && !(snapshot.Clusters.TryGetValue(cluster.Name, out var kept) && ReferenceEquals(kept, cluster)))
                    {
                        await checker.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }

            // Listeners that leave: removed, no longer binding, replaced by a fresh socket, or renamed away from theirs; a socket
            // adopted under a new name is not stopped (see ListenerBindPlan).
            var leaving = new List<(string Name, Listener Listener)>();
            lock (_listeners)
            {
                foreach (var (name, listener) in _listeners)
                {
                    if (!snapshot.Listeners.TryGetValue(name, out var next) || !next.Config.Bind || plan.Bound.ContainsKey(name) || plan.Adopted.ContainsKey(name) || plan.Adopted.ContainsValue(listener))
                    {
                        leaving.Add((name, listener));
                    }
                }

                foreach (var (name, _) in leaving)
                {
                    _listeners.Remove(name);
                }

                foreach (var (name, listener) in plan.Bound)
                {
                    _listeners[name] = listener;
                }

                foreach (var (name, listener) in plan.Adopted)
                {
                    listener.Retarget(name, new Dispatcher(this, name), snapshot.Listeners[name].Metrics.AcceptErrors);
                    _listeners[name] = listener;
                }
            }

            foreach (var (name, old) in leaving)
            {
                if (!plan.Adopted.ContainsValue(old))
                {
                    await old.StopAsync().ConfigureAwait(false);
                    _log.Info("listener closed", ("name", name), ("address", old.LocalEndPoint));
                }
            }

            foreach (var (name, listener) in plan.Adopted)
            {
                _log.Info("listener renamed, socket kept", ("name", name), ("address", listener.LocalEndPoint));
            }

            foreach (var (name, listener) in plan.Bound)
            {
                listener.Start();
                _log.Info("listener bound", ("name", name), ("address", listener.LocalEndPoint), ("protocol", snapshot.Listeners[name].Config.Protocol.ToString().ToLowerInvariant()));
            }
        }
        finally
        {
            _applyLock.Release();
        }
    }

    /// <summary>
    /// Drains (ready turns false): every connection is asked to close once its work is done (HTTP/1.1 responses say
    /// <c>Connection: close</c>, idle keep-alive connections close, HTTP/2 gets GOAWAY); listeners keep accepting for
    /// <paramref name="window"/> and serve new connections the same way, so an app still shutting down can reach its
    /// dependencies; then the listeners close, live connections get up to <paramref name="timeout"/> to finish, and
    /// the rest are closed. Returns the number closed by force.
    /// </summary>
    public async Task<int> DrainAsync(TimeSpan timeout, TimeSpan window = default)
    {
        _draining = true;
        Connections.BeginDrain();
        _log.Info("draining", ("connections", Connections.Count), ("window_ms", (long)window.TotalMilliseconds), ("timeout_ms", (long)timeout.TotalMilliseconds));
        if (window > TimeSpan.Zero)
        {
            await Task.Delay(window).ConfigureAwait(false);
        }

        await StopListenersAsync().ConfigureAwait(false);
        _log.Info("listeners closed for the drain", ("connections", Connections.Count));
        if (await Connections.WaitForEmptyAsync(timeout).ConfigureAwait(false))
        {
            return 0;
        }

        var remaining = Connections.Count;
        Connections.AbortAll();
        await Connections.WaitForEmptyAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        return remaining;
    }

    /// <summary>The sidecar listeners, when the configuration has a mesh section.</summary>
    public Inbound.MeshSidecar? Mesh => Volatile.Read(ref _mesh);

    /// <summary>Stops accepting without waiting for connections (POST /drain does this, then waits).</summary>
    public void BeginDrain() => _draining = true;

    private async Task StopListenersAsync()
    {
        Listener[] all;
        lock (_listeners)
        {
            all = _listeners.Values.ToArray();
            _listeners.Clear();
        }

        foreach (var listener in all)
        {
            await listener.StopAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _mesh, null) is { } mesh)
        {
            await mesh.StopAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _draining = true;
        await _poolSweeper.DisposeAsync().ConfigureAwait(false);
        await StopListenersAsync().ConfigureAwait(false);
        if (Current is { } snapshot)
        {
            foreach (var cluster in snapshot.Clusters.Values)
            {
                if (cluster.Resilience.HealthChecker is { } checker)
                {
                    await checker.DisposeAsync().ConfigureAwait(false);
                }

                foreach (var endpoint in cluster.Endpoints)
                {
                    if (endpoint.HasPool)
                    {
                        endpoint.Pool.Clear();
                    }
                }
            }
        }

        Connections.AbortAll();
        Connections.Dispose();
        await Telemetry.DisposeAsync().ConfigureAwait(false);
        Certificates.Dispose();
    }

    /// <summary>Serves connections of one listener with whatever the current snapshot says about it.</summary>
    private sealed class Dispatcher(ProxyRuntime runtime, string bound) : IConnectionHandler
    {
        public async Task HandleAsync(SocketPipe connection, Socket socket)
        {
            var snapshot = runtime.Current;
            if (snapshot is null || !snapshot.Listeners.TryGetValue(bound, out var listener))
            {
                return; // the listener was removed by a reload that raced with this accept
            }

            // A management server's listener: the hand-off of use_original_dst and the choice of a filter chain, which
            // then serves the connection as a listener of its own; null closes it.
            IPEndPoint? destination = null;
            IReadOnlyList<string>? offeredAlpn = null;
            if (listener.Config.UseOriginalDestination || listener.Chains is not null)
            {
                (var chosen, destination, offeredAlpn) = await FilterChainChoice.ResolveAsync(snapshot, listener, connection.Input, socket).ConfigureAwait(false);
                if (chosen is null)
                {
                    return;
                }

                listener = chosen;
            }

            // An original-destination cluster connects to where the connection was going; read only when one is used.
            if (destination is null && listener.SendsToOriginalDestination)
            {
                destination = FilterChainChoice.Destination(listener.Config, socket);
            }

            var listenerName = listener.Name;
            var metrics = listener.Metrics;
            metrics.Opened.Increment();
            metrics.Active.Increment();
            IDuplexPipe transport = connection;
            IDisposable owner = connection;
            TlsConnection? tls = null;
            try
            {
                if (listener.Tls is { } policy)
                {
                    try
                    {
                        tls = await TlsConnection.AcceptAsync(connection, connection, policy, TlsDefaults.HandshakeTimeout, offeredAlpn).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (TlsHandshake.IsHandshakeFailure(ex))
                    {
                        runtime.TlsMetrics.HandshakeFailures.WithLabels(listenerName).Increment();
                        runtime.HandshakeLog.Failed(listenerName, socket.RemoteEndPoint, ex);
                        return; // no certificate, an untrusted one, or not TLS at all: close
                    }

                    runtime.TlsMetrics.Handshakes.WithLabels(listenerName, tls.Protocol == System.Security.Authentication.SslProtocols.Tls13 ? "1.3" : "1.2").Increment();
                    transport = tls;
                    owner = tls;
                }

                // RBAC (a management server's network and HTTP rbac filters) reads the connection's facts, gathered once.
                Filters.Rbac.RbacConnection? rbac = null;
                if (listener.Config.NetworkRbac.Count > 0 || listener.Config.HttpRbac.Count > 0)
                {
                    rbac = new Filters.Rbac.RbacConnection((socket.RemoteEndPoint as IPEndPoint)?.Address, destination ?? Interception.OriginalDestination.TryGet(socket) ?? socket.LocalEndPoint as IPEndPoint, tls?.ServerName, tls?.PeerCertificate);
                    if (listener.Config.NetworkRbac.Count > 0 && !Filters.Rbac.RbacConnectionFilter.Allows(listener.Config.NetworkRbac, rbac))
                    {
                        runtime._metrics.Resilience.RbacDenied.WithLabels(listenerName, "network").Increment();
                        return; // closed before a byte reaches the upstream, as Envoy's network rbac filter does
                    }
                }

                switch (listener.Config.Protocol)
                {
                    case ListenerProtocol.Tcp:
                        await TcpForwarder.ForwardAsync(transport, owner, listener.Cluster!, listenerName, listener.Config.IdleTimeout, metrics, runtime._metrics, runtime.Connections, (socket.RemoteEndPoint as IPEndPoint)?.Address, runtime.Telemetry, destination: destination).ConfigureAwait(false);
                        break;
                    default:
                        // http and auto: h2c with prior knowledge when the HTTP/2 preface opens the
                        // connection (peeked, not consumed), HTTP/1.1 otherwise.
                        var client = (socket.RemoteEndPoint as IPEndPoint)?.Address;
                        if (await Http.Http2.Http2PrefaceDetector.IsHttp2Async(transport.Input, listener.Config.Limits.HeaderTimeout).ConfigureAwait(false))
                        {
                            var h2 = new Http2ServerConnection(transport, owner, listener, runtime._metrics, client, downstreamTls: tls is not null, () => runtime.IsDraining, runtime.Telemetry, runtime.RoutingSource(listener.Name)) { Destination = destination, RbacConnection = rbac };
                            var h2Id = runtime.Connections.Add(h2);
                            try
                            {
                                await h2.RunAsync().ConfigureAwait(false);
                            }
                            finally
                            {
                                runtime.Connections.Remove(h2Id);
                            }

                            break;
                        }

                        var http = new Http1ServerConnection(transport, owner, listener, runtime._metrics, client, downstreamTls: tls is not null, runtime.RoutingSource(listener.Name), runtime.Telemetry, runtime.Time) { Destination = destination, RbacConnection = rbac };
                        var id = runtime.Connections.Add(http);
                        try
                        {
                            await http.RunAsync().ConfigureAwait(false);
                        }
                        finally
                        {
                            runtime.Connections.Remove(id);
                        }

                        break;
                }
            }
            finally
            {
                if (tls is not null)
                {
                    await tls.CloseAsync(Listener.SendDrainTimeout).ConfigureAwait(false);
                }

                metrics.Active.Decrement();
                metrics.Closed.Increment();
            }
        }
    }
}
