using Envoy.Service.Discovery.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Protocol;

/// <summary>
/// The incremental (delta) variant, <c>xds.api: delta</c> (Envoy's <c>AGGREGATED_DELTA_GRPC</c>), over
/// <c>DeltaAggregatedResources</c> (xds_protocol, "Incremental xDS"). The same types, order, stores, translation and
/// apply paths as the state-of-the-world variant; what differs is the wire: clusters and listeners by the wildcard
/// <c>*</c>, the other types by <c>resource_names_subscribe</c>/<c>_unsubscribe</c> diffs following what the accepted
/// resources reference; a response carries only what changed, each resource with its own version, and only
/// <c>removed_resources</c> deletes; a new stream restates the versions held as <c>initial_resource_versions</c>.
/// </summary>
public sealed partial class AdsClient
{
    private DeltaTypeState? _deltaCds, _deltaEds, _deltaSds, _deltaLds, _deltaRds;

    private DeltaTypeState DeltaCds => _deltaCds ??= new DeltaTypeState(_cds, wildcard: true);

    private DeltaTypeState DeltaEds => _deltaEds ??= new DeltaTypeState(_eds, wildcard: false);

    private DeltaTypeState DeltaSds => _deltaSds ??= new DeltaTypeState(_sds, wildcard: false);

    private DeltaTypeState DeltaLds => _deltaLds ??= new DeltaTypeState(_lds, wildcard: true);

    private DeltaTypeState DeltaRds => _deltaRds ??= new DeltaTypeState(_rds, wildcard: false);

    /// <summary>One incremental stream, until it ends; <see cref="_gotResponse"/> tells whether any response arrived on it.</summary>
    private async Task DeltaStreamAsync(AggregatedDiscoveryService.AggregatedDiscoveryServiceClient client, CancellationToken token)
    {
        using var call = client.DeltaAggregatedResources(cancellationToken: token);
        var stream = new DeltaStreamWriter(call.RequestStream, _node);
        foreach (var state in new[] { DeltaCds, DeltaEds, DeltaSds, DeltaLds, DeltaRds })
        {
            state.Common.Requested = false;
            state.Common.Nonce = "";
            state.Subscribed.Clear();
        }

        await RestateDeltaAsync(stream).ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(token).ConfigureAwait(false))
        {
            StreamUp();
            var response = call.ResponseStream.Current;
            switch (response.TypeUrl)
            {
                case XdsTypeUrls.Cluster:
                    await GatedAsync(() => OnDeltaClustersAsync(stream, response)).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.ClusterLoadAssignment when _config.Endpoints:
                    await GatedAsync(() => OnDeltaEndpointsAsync(stream, response)).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.Secret when DeltaSds.Common.Requested:
                    await GatedAsync(() => OnDeltaSecretsAsync(stream, response)).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.Listener when _config.Listeners && ListenerStore is not null:
                    await OnDeltaListenersAsync(stream, response).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.RouteConfiguration when _config.Routes && ListenerStore is not null:
                    await OnDeltaRoutesAsync(stream, response).ConfigureAwait(false);
                    break;
                default:
                    await stream.NackAsync(response.TypeUrl, response.Nonce, $"the proxy did not subscribe to {response.TypeUrl}; it takes the types named in its xds.resources (clusters, endpoints, listeners, routes) and the secrets its clusters name").ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>
    /// A new stream restates, type by type in Envoy's order (CDS, EDS, SDS, LDS, RDS), the subscription and the
    /// versions of what is held (xds_protocol: "the first message of each type_url of a reconnected stream populates
    /// initial_resource_versions"), so the server sends only what changed while the stream was down.
    /// </summary>
    private async Task RestateDeltaAsync(DeltaStreamWriter stream)
    {
        await RestateDeltaAsync(stream, DeltaCds, [], _store.Clusters.ContainsKey).ConfigureAwait(false);
        if (_config.Endpoints && _store.EdsNames() is { Count: > 0 } eds)
        {
            await RestateDeltaAsync(stream, DeltaEds, eds, _store.Assignments.ContainsKey).ConfigureAwait(false);
        }

        if (_store.SecretNames() is { Count: > 0 } secrets)
        {
            await RestateDeltaAsync(stream, DeltaSds, secrets, _store.Secrets.Secrets.ContainsKey).ConfigureAwait(false);
        }

        if (_config.Listeners && ListenerStore is { } listeners)
        {
            await RestateDeltaAsync(stream, DeltaLds, [], listeners.Listeners.ContainsKey).ConfigureAwait(false);
            if (_config.Routes && listeners.RdsNames() is { Count: > 0 } routes)
            {
                await RestateDeltaAsync(stream, DeltaRds, routes, listeners.Routes.ContainsKey).ConfigureAwait(false);
            }
        }
    }

    private static Task RestateDeltaAsync(DeltaStreamWriter stream, DeltaTypeState state, IReadOnlyList<string> names, Func<string, bool> held)
    {
        state.RetainVersions(held);
        return stream.RestateAsync(state, names, state.ResourceVersions);
    }

    /// <summary>
    /// After the resources that reference a named type changed: subscribe to the names now referenced and not yet
    /// subscribed, unsubscribe from those no longer referenced (one request, no nonce); nothing when equal.
    /// </summary>
    private static async Task FollowDeltaAsync(DeltaStreamWriter stream, DeltaTypeState state, IReadOnlyList<string> wanted)
    {
        var wantedSet = new HashSet<string>(wanted, StringComparer.Ordinal);
        var subscribe = wanted.Where(n => !state.Subscribed.Contains(n)).ToList();
        var unsubscribe = state.Subscribed.Where(n => !wantedSet.Contains(n)).ToList();
        if (subscribe.Count == 0 && unsubscribe.Count == 0)
        {
            return;
        }

        foreach (var name in unsubscribe)
        {
            state.ResourceVersions.Remove(name);
        }

        await stream.SubscribeAsync(state, subscribe, unsubscribe).ConfigureAwait(false);
    }

    /// <summary>An accepted incremental response: the versions of what it sent and removed are recorded, and it is ACKed.</summary>
    private async Task AcceptDeltaAsync<T>(DeltaStreamWriter stream, DeltaTypeState state, DeltaDiscoveryResponse response, DeltaUpdate<T> update, DateTimeOffset now, (string, object?) count)
        where T : Google.Protobuf.IMessage<T>, new()
    {
        foreach (var (name, version) in update.Versions)
        {
            state.ResourceVersions[name] = version;
        }

        foreach (var name in update.Removed)
        {
            state.ResourceVersions.Remove(name);
        }

        state.Common.Version = response.SystemVersionInfo;
        state.Common.Nonce = response.Nonce;
        var type = XdsTypeUrls.ShortName(state.TypeUrl);
        _metrics.Accepted(type, response.SystemVersionInfo, now);
        _log.Info("xDS update accepted", ("type", type), ("version", response.SystemVersionInfo), count, ("removed", update.Removed.Count));
        await stream.AckAsync(state.TypeUrl, response.Nonce).ConfigureAwait(false);
    }

    private async Task RejectDeltaAsync(DeltaStreamWriter stream, DeltaTypeState state, DeltaDiscoveryResponse response, string error)
    {
        state.Common.Nonce = response.Nonce;
        var type = XdsTypeUrls.ShortName(state.TypeUrl);
        _metrics.Rejected(type);
        _log.Warn("xDS update rejected; the previous version keeps serving", ("type", type), ("version", response.SystemVersionInfo), ("kept_version", state.Common.Version), ("error", error));
        await stream.NackAsync(state.TypeUrl, response.Nonce, error).ConfigureAwait(false);
    }
}
