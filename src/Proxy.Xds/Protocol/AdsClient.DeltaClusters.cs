using Envoy.Service.Discovery.V3;
using Proxy.Xds.Translation;
using ClusterLoadAssignment = Envoy.Config.Endpoint.V3.ClusterLoadAssignment;
using Secret = Envoy.Extensions.TransportSockets.Tls.V3.Secret;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds.Protocol;

/// <summary>
/// CDS, EDS and SDS, incremental: each response is merged into what is held (a cluster it leaves out stays; one in
/// <c>removed_resources</c> goes, as a cluster left out of a state-of-the-world response does), then goes through
/// the same translation, store and apply path. EDS and SDS follow the accepted clusters by subscription diffs.
/// </summary>
public sealed partial class AdsClient
{
    private async Task OnDeltaClustersAsync(DeltaStreamWriter stream, DeltaDiscoveryResponse response)
    {
        var now = DateTimeOffset.UtcNow;
        string? error;
        DeltaUpdate<XdsCluster>? update = null;
        Dictionary<string, AcceptedCluster>? candidate = null;
        try
        {
            update = DeltaUpdate<XdsCluster>.Read(response, XdsCluster.Parser, static c => c.Name);
            var all = update.Merge(_store.Clusters.Values.Select(static c => c.Resource), static c => c.Name);
            candidate = _store.TranslateClusters(all, response.SystemVersionInfo, now);
            update.Stamp(candidate, static (c, version) => c with { Version = version });
            RejectEdsWithoutEndpoints(candidate);

            error = await _apply(_store.Configs(candidate)).ConfigureAwait(false);
        }
        catch (XdsRejectedException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            await RejectDeltaAsync(stream, DeltaCds, response, error).ConfigureAwait(false);
            return;
        }

        _store.Commit(candidate, null);
        await AcceptDeltaAsync(stream, DeltaCds, response, update!, now, ("clusters", update!.Resources.Count)).ConfigureAwait(false);

        // EDS and SDS follow CDS: subscribe to what the clusters now held name, unsubscribe from what they no longer do.
        if (_config.Endpoints)
        {
            await FollowDeltaAsync(stream, DeltaEds, _store.EdsNames()).ConfigureAwait(false);
        }

        await FollowDeltaAsync(stream, DeltaSds, _store.SecretNames()).ConfigureAwait(false);
    }

    private async Task OnDeltaEndpointsAsync(DeltaStreamWriter stream, DeltaDiscoveryResponse response)
    {
        var now = DateTimeOffset.UtcNow;
        string? error;
        DeltaUpdate<ClusterLoadAssignment>? update = null;
        Dictionary<string, AcceptedAssignment>? candidate = null;
        var count = 0;
        try
        {
            // Assignments for names not (or no longer) subscribed are skipped: a server may send them (discovery.proto).
            update = DeltaUpdate<ClusterLoadAssignment>.Read(response, ClusterLoadAssignment.Parser, static a => a.ClusterName);
            var wanted = new HashSet<string>(_store.EdsNames(), StringComparer.Ordinal);
            var resources = update.Resources.Where(a => wanted.Contains(a.ClusterName)).ToList();
            count = resources.Count;
            candidate = _store.TranslateAssignments(resources, response.SystemVersionInfo, now);
            update.Stamp(candidate, static (a, version) => a with { Version = version });

            // A removed assignment: the cluster has no endpoints (503) until one comes again.
            foreach (var name in update.Removed)
            {
                candidate.Remove(name);
            }

            error = await _apply(_store.Configs(assignments: candidate)).ConfigureAwait(false);
        }
        catch (XdsRejectedException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            await RejectDeltaAsync(stream, DeltaEds, response, error).ConfigureAwait(false);
            return;
        }

        _store.Commit(null, candidate);
        await AcceptDeltaAsync(stream, DeltaEds, response, update!, now, ("assignments", count)).ConfigureAwait(false);
    }

    private async Task OnDeltaSecretsAsync(DeltaStreamWriter stream, DeltaDiscoveryResponse response)
    {
        var now = DateTimeOffset.UtcNow;
        string? error;
        DeltaUpdate<Secret>? update = null;
        var count = 0;
        try
        {
            update = DeltaUpdate<Secret>.Read(response, Secret.Parser, static s => s.Name);
            var wanted = new HashSet<string>(_store.SecretNames(), StringComparer.Ordinal);
            var resources = update.Resources.Where(s => wanted.Contains(s.Name)).ToList();
            count = resources.Count;
            var candidate = _store.Secrets.Translate(resources, response.SystemVersionInfo, now);
            update.Stamp(candidate, static (s, version) => s with { Version = version });

            // A removed secret: the clusters that name it fail closed (no endpoints) until it comes again.
            foreach (var name in update.Removed)
            {
                candidate.Remove(name);
            }

            // Each secret loaded once already, so this cannot fail half way; clusters that waited for one serve now.
            _store.Secrets.Commit(candidate);
            error = await _apply(_store.Configs()).ConfigureAwait(false);

            // Listeners whose TLS chains waited for a secret are bound now, as in the state-of-the-world variant.
            if (error is null && ListenerStore is { } listeners && ApplyListeners is not null)
            {
                error = await Apply(listeners.Configs()).ConfigureAwait(false);
            }
        }
        catch (XdsRejectedException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            await RejectDeltaAsync(stream, DeltaSds, response, error).ConfigureAwait(false);
            return;
        }

        await AcceptDeltaAsync(stream, DeltaSds, response, update!, now, ("secrets", count)).ConfigureAwait(false);
    }
}
