using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;
using Proxy.Configuration;
using Proxy.Forwarding;
using Proxy.Observability;
using Proxy.Tcp;
using Proxy.Transport;

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
    private volatile bool _draining;

    public ProxyRuntime(ProxyMetrics metrics, Logger log)
    {
        _metrics = metrics;
        _log = log;
    }

    public ProxySnapshot? Current => Volatile.Read(ref _snapshot);

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

            var snapshot = SnapshotCompiler.Compile(config, Current, _metrics);
            var bound = new Dictionary<string, Listener>(StringComparer.Ordinal);
            var failures = new List<string>();
            foreach (var listener in config.Listeners)
            {
                var wanted = AddressResolver.ForBind(listener.Address);
                if (_listeners.TryGetValue(listener.Name, out var existing) && SameAddress(existing.LocalEndPoint, wanted, listener.Address.Port))
                {
                    continue; // keep the socket: the dispatcher reads the new snapshot by name
                }

                try
                {
                    bound[listener.Name] = new Listener(listener.Name, wanted, new Dispatcher(this, listener.Name), snapshot.Listeners[listener.Name].Metrics.AcceptErrors, _log);
                }
                catch (SocketException ex)
                {
                    failures.Add($"listener {listener.Name}: cannot bind {listener.Address}: {ex.Message}");
                }
            }

            if (failures.Count > 0)
            {
                foreach (var fresh in bound.Values)
                {
                    await fresh.StopAsync().ConfigureAwait(false);
                }

                throw new ListenerBindException(failures);
            }

            Volatile.Write(ref _snapshot, snapshot);

            var retired = new List<Listener>();
            lock (_listeners)
            {
                foreach (var (name, listener) in _listeners)
                {
                    if (!snapshot.Listeners.ContainsKey(name) || bound.ContainsKey(name))
                    {
                        retired.Add(listener);
                    }
                }

                foreach (var old in retired)
                {
                    _listeners.Remove(old.Name);
                }

                foreach (var (name, listener) in bound)
                {
                    _listeners[name] = listener;
                }
            }

            foreach (var old in retired)
            {
                await old.StopAsync().ConfigureAwait(false);
                _log.Info("listener closed", ("name", old.Name), ("address", old.LocalEndPoint));
            }

            foreach (var (name, listener) in bound)
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

    private static bool SameAddress(IPEndPoint bound, IPEndPoint wanted, int configuredPort) =>
        bound.Address.Equals(wanted.Address) && (configuredPort == 0 || bound.Port == wanted.Port);

    /// <summary>
    /// Stops accepting (ready turns false), waits up to <paramref name="timeout"/> for live connections
    /// to finish, then closes the rest. Returns the number closed by force.
    /// </summary>
    public async Task<int> DrainAsync(TimeSpan timeout)
    {
        _draining = true;
        await StopListenersAsync().ConfigureAwait(false);
        _log.Info("draining", ("connections", Connections.Count), ("timeout_ms", (long)timeout.TotalMilliseconds));
        if (await Connections.WaitForEmptyAsync(timeout).ConfigureAwait(false))
        {
            return 0;
        }

        var remaining = Connections.Count;
        Connections.AbortAll();
        await Connections.WaitForEmptyAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        return remaining;
    }

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
    }

    public async ValueTask DisposeAsync()
    {
        _draining = true;
        await StopListenersAsync().ConfigureAwait(false);
        Connections.AbortAll();
        Connections.Dispose();
    }

    /// <summary>Serves connections of one listener with whatever the current snapshot says about it.</summary>
    private sealed class Dispatcher(ProxyRuntime runtime, string listenerName) : IConnectionHandler
    {
        public async Task HandleAsync(SocketConnection connection, Socket socket)
        {
            var snapshot = runtime.Current;
            if (snapshot is null || !snapshot.Listeners.TryGetValue(listenerName, out var listener))
            {
                return; // the listener was removed by a reload that raced with this accept
            }

            var metrics = listener.Metrics;
            metrics.Opened.Increment();
            metrics.Active.Increment();
            try
            {
                switch (listener.Config.Protocol)
                {
                    case ListenerProtocol.Tcp:
                        await TcpForwarder.ForwardAsync(connection, listener.Cluster!, listenerName, listener.Config.IdleTimeout, metrics, runtime._metrics, runtime.Connections, (socket.RemoteEndPoint as IPEndPoint)?.Address).ConfigureAwait(false);
                        break;
                    default:
                        // http and auto: h2c with prior knowledge when the HTTP/2 preface opens the
                        // connection (peeked, not consumed), HTTP/1.1 otherwise.
                        var client = (socket.RemoteEndPoint as IPEndPoint)?.Address;
                        if (await Http.Http2.Http2PrefaceDetector.IsHttp2Async(connection.Input, listener.Config.Limits.HeaderTimeout).ConfigureAwait(false))
                        {
                            var h2 = new Http2ServerConnection(connection, connection, listener, runtime._metrics, client, () => runtime.IsDraining);
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

                        var http = new Http1ServerConnection(connection, connection, listener, runtime._metrics, client);
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
                metrics.Active.Decrement();
                metrics.Closed.Increment();
            }
        }
    }
}
