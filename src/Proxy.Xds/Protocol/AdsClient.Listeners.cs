using Envoy.Service.Discovery.V3;
using Proxy.Configuration;
using Proxy.Xds.Translation;
using Listener = Envoy.Config.Listener.V3.Listener;
using RouteConfiguration = Envoy.Config.Route.V3.RouteConfiguration;

namespace Proxy.Xds.Protocol;

/// <summary>
/// LDS and RDS over the same ADS stream, state of the world. Listeners by wildcard; the RouteConfiguration names the
/// accepted listeners' <c>http_connection_manager.rds.route_config_name</c> give, re-sent when that set changes (as
/// EDS follows CDS). An LDS response replaces the whole set (a listener left out is removed: its socket closes and
/// its connections drain as on a file reload); RDS resources are not deleted by omission. A listener warms until its
/// routes arrive; if they have not within <see cref="XdsConfig.InitialFetchTimeout"/> (xds_protocol, "Knowing When a
/// Requested Resource Does Not Exist"), it serves without routes (every request 404), as Envoy's initial fetch
/// timeout does, until they come.
/// </summary>
public sealed partial class AdsClient
{
    private readonly XdsTypeState _lds = new(XdsTypeUrls.Listener);
    private readonly XdsTypeState _rds = new(XdsTypeUrls.RouteConfiguration);

    /// <summary>
    /// Serializes every update: each response's handling, the absence timers, and the streams of the SDS servers of
    /// <c>xds.secret_servers</c>, which change the stores and the runtime from their own threads. Shared with them.
    /// </summary>
    public SemaphoreSlim UpdateGate { get; init; } = new(1, 1);
    private readonly Dictionary<string, CancellationTokenSource> _absenceTimers = new(StringComparer.Ordinal);

    /// <summary>The listeners and route configurations accepted so far; set when the configuration takes them.</summary>
    public XdsListenerStore? ListenerStore { get; init; }

    /// <summary>Makes a set of xDS listeners serve beside the file's; null when they do, else the NACK's sentence.</summary>
    public Func<XdsListenerSet, Task<string?>>? ApplyListeners { get; init; }

    /// <summary>The version_info last accepted for listeners and route configurations ("" before the first).</summary>
    public (string Listeners, string Routes) ListenerVersions => (_lds.Version, _rds.Version);

    /// <summary>A new stream restates the listener subscription (wildcard) and the route configuration names held.</summary>
    private async Task RestateListenersAsync(StreamWriter stream)
    {
        _lds.Nonce = _rds.Nonce = "";
        _lds.Requested = _rds.Requested = false;
        if (!_config.Listeners || ListenerStore is null)
        {
            return;
        }

        await stream.SendAsync(_lds, []).ConfigureAwait(false);
        if (_config.Routes && ListenerStore.RdsNames() is { Count: > 0 } names)
        {
            await stream.SendAsync(_rds, names).ConfigureAwait(false);
        }
    }

    private async Task OnListenersAsync(StreamWriter stream, DiscoveryResponse response)
    {
        var store = ListenerStore!;
        await UpdateGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var now = DateTimeOffset.UtcNow;
            string? error;
            Dictionary<string, AcceptedListener>? candidate = null;
            try
            {
                candidate = store.TranslateListeners(Unpack(response, Listener.Parser), response.VersionInfo, now);
                RejectRdsWithoutRoutes(candidate);

                error = await Apply(store.Configs(candidate)).ConfigureAwait(false);
            }
            catch (XdsRejectedException ex)
            {
                error = ex.Message;
            }

            if (error is not null)
            {
                await RejectAsync(stream, _lds, response, error).ConfigureAwait(false);
                return;
            }

            store.Commit(candidate, null);
            await AcceptAsync(stream, _lds, response, now, ("listeners", candidate!.Count)).ConfigureAwait(false);

            // RDS follows LDS: ask for exactly the route configurations the listeners now held name.
            if (_config.Routes && store.RdsNames() is var names && (!_rds.Requested || !names.SequenceEqual(_rds.Names)))
            {
                await stream.SendAsync(_rds, names).ConfigureAwait(false);
            }

            FollowAbsenceTimers(store);

            // SDS follows LDS as it follows CDS: the secrets of the listeners' TLS chains are asked for too.
            await FollowSecretsAsync(stream).ConfigureAwait(false);
        }
        finally
        {
            UpdateGate.Release();
        }
    }

    private async Task OnRoutesAsync(StreamWriter stream, DiscoveryResponse response)
    {
        var store = ListenerStore!;
        await UpdateGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var now = DateTimeOffset.UtcNow;
            string? error;
            Dictionary<string, AcceptedRouteConfiguration>? candidate = null;
            var count = 0;
            try
            {
                // Configurations no listener asks for (any more) are skipped: a response may cross an unsubscription.
                var wanted = new HashSet<string>(store.RdsNames(), StringComparer.Ordinal);
                var resources = Unpack(response, RouteConfiguration.Parser).Where(r => wanted.Contains(r.Name)).ToList();
                count = resources.Count;
                candidate = store.TranslateRoutes(resources, response.VersionInfo, now);
                error = await Apply(store.Configs(routes: candidate)).ConfigureAwait(false);
            }
            catch (XdsRejectedException ex)
            {
                error = ex.Message;
            }

            if (error is not null)
            {
                await RejectAsync(stream, _rds, response, error).ConfigureAwait(false);
                return;
            }

            store.Commit(null, candidate);
            FollowAbsenceTimers(store);
            await AcceptAsync(stream, _rds, response, now, ("route_configurations", count)).ConfigureAwait(false);
        }
        finally
        {
            UpdateGate.Release();
        }
    }

    /// <summary>Without RDS a listener whose routes come over RDS would warm for ever: say so rather than never bind it.</summary>
    private void RejectRdsWithoutRoutes(Dictionary<string, AcceptedListener> candidate)
    {
        if (!_config.Routes && candidate.Values.FirstOrDefault(static l => l.Translated.RouteConfigName is not null) is { } rds)
        {
            throw new XdsRejectedException($"listener '{rds.Resource.Name}': http_connection_manager.rds: its routes come over RDS, and xds.resources does not take routes; add routes to xds.resources or send route_config inline");
        }
    }

    private Task<string?> Apply(XdsListenerSet listeners) =>
        ApplyListeners is { } apply ? apply(listeners) : Task.FromResult<string?>("this proxy cannot take listeners from a management server");

    /// <summary>
    /// One timer per route configuration name asked for and not held (started when first wanted, as Envoy's initial
    /// fetch timeout); stopped when it arrives or is no longer wanted.
    /// </summary>
    private void FollowAbsenceTimers(XdsListenerStore store)
    {
        var wanted = new HashSet<string>(store.RdsNames(), StringComparer.Ordinal);
        foreach (var (name, timer) in _absenceTimers.ToArray())
        {
            if (!wanted.Contains(name) || store.Routes.ContainsKey(name))
            {
                timer.Cancel();
                timer.Dispose();
                _absenceTimers.Remove(name);
            }
        }

        if (!_config.Routes)
        {
            return;
        }

        foreach (var name in wanted)
        {
            if (!store.Routes.ContainsKey(name) && !store.Absent.Contains(name) && !_absenceTimers.ContainsKey(name))
            {
                var timer = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                _absenceTimers.Add(name, timer);
                _ = AbsentAfterTimeoutAsync(store, name, timer.Token);
            }
        }
    }

    /// <summary>The initial fetch of <paramref name="name"/> timed out: the listeners naming it stop warming and serve without routes.</summary>
    private async Task AbsentAfterTimeoutAsync(XdsListenerStore store, string name, CancellationToken token)
    {
        try
        {
            await Task.Delay(_config.InitialFetchTimeout, token).ConfigureAwait(false);
            await UpdateGate.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (token.IsCancellationRequested || store.Routes.ContainsKey(name) || !store.RdsNames().Contains(name))
            {
                return;
            }

            var absent = store.WithAbsent(name);
            var waiting = store.Listeners.Values.Where(l => l.Translated.RouteConfigName == name).Select(static l => l.Resource.Name).ToArray();
            var error = await Apply(store.Configs(absent: absent)).ConfigureAwait(false);
            if (error is null)
            {
                store.Commit(null, null, absent);
            }

            _log.Warn("a route configuration the management server's listeners name did not arrive within the initial fetch timeout; they serve without routes (404) until it comes, as Envoy does",
                ("route_configuration", name), ("listeners", string.Join(",", waiting)), ("timeout_ms", (long)_config.InitialFetchTimeout.TotalMilliseconds), ("error", error));
        }
        finally
        {
            // Only this timer's own entry: a cancelled one may have been replaced by a new subscription's.
            if (_absenceTimers.TryGetValue(name, out var timer) && timer.Token == token)
            {
                _absenceTimers.Remove(name);
                timer.Dispose();
            }

            UpdateGate.Release();
        }
    }
}
