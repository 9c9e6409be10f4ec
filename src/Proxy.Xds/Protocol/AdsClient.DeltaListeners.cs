using Envoy.Service.Discovery.V3;
using Proxy.Xds.Translation;
using Listener = Envoy.Config.Listener.V3.Listener;
using RouteConfiguration = Envoy.Config.Route.V3.RouteConfiguration;

namespace Proxy.Xds.Protocol;

/// <summary>
/// LDS and RDS, incremental: listeners by wildcard, merged into what is held (one in <c>removed_resources</c> is
/// removed as a listener left out of a state-of-the-world response is); route configurations by the names the
/// listeners give, as subscription diffs. A route configuration the server removes is one that does not exist
/// (xds_protocol, "Knowing When a Requested Resource Does Not Exist": in the incremental variants the server says so
/// with removed_resources): its listeners serve without routes (404), as after the initial fetch timeout.
/// </summary>
public sealed partial class AdsClient
{
    private async Task OnDeltaListenersAsync(DeltaStreamWriter stream, DeltaDiscoveryResponse response)
    {
        var store = ListenerStore!;
        await UpdateGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var now = DateTimeOffset.UtcNow;
            string? error;
            DeltaUpdate<Listener>? update = null;
            Dictionary<string, AcceptedListener>? candidate = null;
            try
            {
                update = DeltaUpdate<Listener>.Read(response, Listener.Parser, static l => l.Name);
                var all = update.Merge(store.Listeners.Values.Select(static l => l.Resource), static l => l.Name);
                candidate = store.TranslateListeners(all, response.SystemVersionInfo, now);
                update.Stamp(candidate, static (l, version) => l with { Version = version });
                RejectRdsWithoutRoutes(candidate);

                error = await Apply(store.Configs(candidate)).ConfigureAwait(false);
            }
            catch (XdsRejectedException ex)
            {
                error = ex.Message;
            }

            if (error is not null)
            {
                await RejectDeltaAsync(stream, DeltaLds, response, error).ConfigureAwait(false);
                return;
            }

            store.Commit(candidate, null);
            await AcceptDeltaAsync(stream, DeltaLds, response, update!, now, ("listeners", update!.Resources.Count)).ConfigureAwait(false);

            // RDS follows LDS: subscribe to the route configurations the listeners now name, unsubscribe from the rest.
            if (_config.Routes)
            {
                await FollowDeltaAsync(stream, DeltaRds, store.RdsNames()).ConfigureAwait(false);
            }

            FollowAbsenceTimers(store);

            // SDS follows LDS as it follows CDS: the secrets of the listeners' TLS chains are subscribed to too.
            await FollowDeltaAsync(stream, DeltaSds, _store.SecretNames()).ConfigureAwait(false);
        }
        finally
        {
            UpdateGate.Release();
        }
    }

    private async Task OnDeltaRoutesAsync(DeltaStreamWriter stream, DeltaDiscoveryResponse response)
    {
        var store = ListenerStore!;
        await UpdateGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var now = DateTimeOffset.UtcNow;
            string? error;
            DeltaUpdate<RouteConfiguration>? update = null;
            Dictionary<string, AcceptedRouteConfiguration>? candidate = null;
            HashSet<string>? absent = null;
            var count = 0;
            try
            {
                update = DeltaUpdate<RouteConfiguration>.Read(response, RouteConfiguration.Parser, static r => r.Name);
                var wanted = new HashSet<string>(store.RdsNames(), StringComparer.Ordinal);
                var resources = update.Resources.Where(r => wanted.Contains(r.Name)).ToList();
                count = resources.Count;
                candidate = store.TranslateRoutes(resources, response.SystemVersionInfo, now);
                update.Stamp(candidate, static (r, version) => r with { Version = version });
                foreach (var name in update.Removed.Where(wanted.Contains))
                {
                    candidate.Remove(name);
                    (absent ??= new HashSet<string>(store.Absent, StringComparer.Ordinal)).Add(name);
                }

                error = await Apply(store.Configs(routes: candidate, absent: absent)).ConfigureAwait(false);
            }
            catch (XdsRejectedException ex)
            {
                error = ex.Message;
            }

            if (error is not null)
            {
                await RejectDeltaAsync(stream, DeltaRds, response, error).ConfigureAwait(false);
                return;
            }

            store.Commit(null, candidate, absent);
            FollowAbsenceTimers(store);
            await AcceptDeltaAsync(stream, DeltaRds, response, update!, now, ("route_configurations", count)).ConfigureAwait(false);
        }
        finally
        {
            UpdateGate.Release();
        }
    }
}
