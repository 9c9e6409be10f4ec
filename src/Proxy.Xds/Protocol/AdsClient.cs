using Envoy.Config.Core.V3;
using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Xds.Translation;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;
using ClusterLoadAssignment = Envoy.Config.Endpoint.V3.ClusterLoadAssignment;

namespace Proxy.Xds.Protocol;

/// <summary>
/// The aggregated discovery (ADS) client (Envoy's xds_protocol is the reference); the state-of-the-world variant
/// here and in AdsClient.Listeners/Secrets, the incremental one in the AdsClient.Delta* files, both over the same
/// stores, translation and apply paths. One
/// stream at a time: clusters by wildcard (CDS), then the endpoints of the EDS clusters by name (EDS), following
/// what CDS returned. Each response is translated and handed to the runtime; it is ACKed (its version and nonce
/// echoed) once serving, or NACKed with the reason and the last good version, which keeps serving. A failed stream
/// is reopened after a jittered backoff; what was accepted keeps serving meanwhile.
/// </summary>
public sealed partial class AdsClient : IAsyncDisposable
{
    private readonly XdsConfig _config;
    private readonly XdsClusterStore _store;
    private readonly Func<IReadOnlyList<ClusterConfig>, Task<string?>> _apply;
    private readonly XdsMetrics _metrics;
    private readonly Logger _log;
    private readonly XdsBackoff _backoff;
    private readonly Node _node;
    private readonly XdsTypeState _cds = new(XdsTypeUrls.Cluster);
    private readonly XdsTypeState _eds = new(XdsTypeUrls.ClusterLoadAssignment);
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;
    private bool _gotResponse; // whether the current stream got any response (read by the loop after it ends)

    /// <param name="apply">
    /// Makes a set of xDS clusters serve beside the file's; returns null when it does, else the sentence that says why
    /// not (the NACK's error_detail).
    /// </param>
    public AdsClient(XdsConfig config, XdsClusterStore store, Func<IReadOnlyList<ClusterConfig>, Task<string?>> apply, XdsMetrics metrics, Logger log, XdsBackoff? backoff = null)
    {
        _config = config;
        _store = store;
        _apply = apply;
        _metrics = metrics;
        _log = log;
        _backoff = backoff ?? new XdsBackoff();
        _node = XdsNode.From(config.Node);
    }

    /// <summary>The version_info last accepted for clusters and endpoints ("" before the first).</summary>
    public (string Clusters, string Endpoints) Versions => (_cds.Version, _eds.Version);

    public void Start() => _run = Task.Run(RunAsync);

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            _gotResponse = false;
            string reason;
            try
            {
                using var channel = XdsChannelFactory.Create(_config);
                var client = new AggregatedDiscoveryService.AggregatedDiscoveryServiceClient(channel);
                await (_config.Api == XdsApi.Delta ? DeltaStreamAsync(client, token) : StreamAsync(client, token)).ConfigureAwait(false);
                reason = "the server closed it";
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex)
            {
                // The innermost cause says what to fix (a refused connect, a certificate that does not verify).
                reason = ex.Status.DebugException?.GetBaseException().Message is { Length: > 0 } cause ? cause
                    : ex.Status.Detail.Length > 0 ? ex.Status.Detail : ex.StatusCode.ToString();
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                // Whatever ended this stream (a socket error, a certificate, a bug in applying an update) must not end
                // the client: what was last accepted keeps serving and the next stream starts over.
                reason = ex.GetBaseException().Message;
            }

            _metrics.Connected.Set(0);
            _metrics.Reconnects.Increment();
            if (_gotResponse)
            {
                _backoff.Reset(); // the server was there: the next failure starts the backoff anew
            }

            var delay = _backoff.Next();
            _log.Warn("the ADS stream to the management server ended; what was last accepted (listeners, routes, clusters, endpoints, secrets) keeps serving, and the proxy reconnects after a backoff",
                ("server", _config.Server.ToString()), ("reason", reason), ("retry_in_ms", (long)delay.TotalMilliseconds));
            try
            {
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>One stream, until it ends; <see cref="_gotResponse"/> tells whether any response arrived on it.</summary>
    private async Task StreamAsync(AggregatedDiscoveryService.AggregatedDiscoveryServiceClient client, CancellationToken token)
    {
        using var call = client.StreamAggregatedResources(cancellationToken: token);
        var stream = new StreamWriter(call.RequestStream, _node);
        _cds.Nonce = _eds.Nonce = "";
        _cds.Requested = _eds.Requested = false;

        // A new stream restates what is held: the last accepted versions, and the EDS names the clusters ask for.
        await stream.SendAsync(_cds, []).ConfigureAwait(false);
        if (_config.Endpoints && _store.EdsNames() is { Count: > 0 } names)
        {
            await stream.SendAsync(_eds, names).ConfigureAwait(false);
        }

        await RestateSecretsAsync(stream).ConfigureAwait(false);
        await RestateListenersAsync(stream).ConfigureAwait(false);

        while (await call.ResponseStream.MoveNext(token).ConfigureAwait(false))
        {
            StreamUp();
            var response = call.ResponseStream.Current;
            switch (response.TypeUrl)
            {
                case XdsTypeUrls.Cluster:
                    await GatedAsync(() => OnClustersAsync(stream, response)).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.ClusterLoadAssignment when _config.Endpoints:
                    await GatedAsync(() => OnEndpointsAsync(stream, response)).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.Secret when _sds.Requested:
                    await GatedAsync(() => OnSecretsAsync(stream, response)).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.Listener when _config.Listeners:
                    await OnListenersAsync(stream, response).ConfigureAwait(false);
                    break;
                case XdsTypeUrls.RouteConfiguration when _config.Routes:
                    await OnRoutesAsync(stream, response).ConfigureAwait(false);
                    break;
                default:
                    // Nothing of this type was asked for; a NACK tells the server's operator so.
                    await stream.NackAsync(new XdsTypeState(response.TypeUrl), response, $"the proxy did not subscribe to {response.TypeUrl}; it takes the types named in its xds.resources (clusters, endpoints, listeners, routes) and the secrets its clusters name").ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>The first response on a stream: the server is there (the backoff starts anew after this stream).</summary>
    private void StreamUp()
    {
        if (!_gotResponse)
        {
            _gotResponse = true;
            _metrics.Connected.Set(1);
            _log.Info("ADS stream to the management server is up", ("server", _config.Server.ToString()), ("api", _config.Api == XdsApi.Delta ? "delta" : "state_of_the_world"));
        }
    }

    private async Task OnClustersAsync(StreamWriter stream, DiscoveryResponse response)
    {
        var now = DateTimeOffset.UtcNow;
        string? error;
        Dictionary<string, AcceptedCluster>? candidate = null;
        try
        {
            candidate = _store.TranslateClusters(Unpack(response, XdsCluster.Parser), response.VersionInfo, now);
            RejectEdsWithoutEndpoints(candidate);

            error = await _apply(_store.Configs(candidate)).ConfigureAwait(false);
        }
        catch (XdsRejectedException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            await RejectAsync(stream, _cds, response, error).ConfigureAwait(false);
            return;
        }

        _store.Commit(candidate, null);
        await AcceptAsync(stream, _cds, response, now, ("clusters", candidate!.Count)).ConfigureAwait(false);

        // EDS follows CDS: ask for the endpoints of exactly the EDS clusters now held.
        if (_config.Endpoints && _store.EdsNames() is var names && (!_eds.Requested || !names.SequenceEqual(_eds.Names)))
        {
            await stream.SendAsync(_eds, names).ConfigureAwait(false);
        }

        await FollowSecretsAsync(stream).ConfigureAwait(false); // SDS follows CDS the same way
    }

    private async Task OnEndpointsAsync(StreamWriter stream, DiscoveryResponse response)
    {
        var now = DateTimeOffset.UtcNow;
        string? error;
        Dictionary<string, AcceptedAssignment>? candidate = null;
        try
        {
            // Assignments for names not (or no longer) asked for are skipped: a response may cross an unsubscription.
            var wanted = new HashSet<string>(_store.EdsNames(), StringComparer.Ordinal);
            var resources = Unpack(response, ClusterLoadAssignment.Parser).Where(a => wanted.Contains(a.ClusterName)).ToList();
            candidate = _store.TranslateAssignments(resources, response.VersionInfo, now);
            error = await _apply(_store.Configs(assignments: candidate)).ConfigureAwait(false);
        }
        catch (XdsRejectedException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            await RejectAsync(stream, _eds, response, error).ConfigureAwait(false);
            return;
        }

        _store.Commit(null, candidate);
        await AcceptAsync(stream, _eds, response, now, ("assignments", response.Resources.Count)).ConfigureAwait(false);
    }

    private async Task AcceptAsync(StreamWriter stream, XdsTypeState state, DiscoveryResponse response, DateTimeOffset now, (string, object?) count)
    {
        state.Version = response.VersionInfo;
        state.Nonce = response.Nonce;
        _metrics.Accepted(XdsTypeUrls.ShortName(state.TypeUrl), response.VersionInfo, now);
        _log.Info("xDS update accepted", ("type", XdsTypeUrls.ShortName(state.TypeUrl)), ("version", response.VersionInfo), count);
        await stream.SendAsync(state, state.Names).ConfigureAwait(false);
    }

    private async Task RejectAsync(StreamWriter stream, XdsTypeState state, DiscoveryResponse response, string error)
    {
        _metrics.Rejected(XdsTypeUrls.ShortName(state.TypeUrl));
        _log.Warn("xDS update rejected; the previous version keeps serving", ("type", XdsTypeUrls.ShortName(state.TypeUrl)), ("version", response.VersionInfo), ("kept_version", state.Version), ("error", error));
        await stream.NackAsync(state, response, error).ConfigureAwait(false);
    }

    /// <summary>Without EDS an EDS cluster would never get an endpoint: say so rather than serve 503s silently.</summary>
    private void RejectEdsWithoutEndpoints(Dictionary<string, AcceptedCluster> candidate)
    {
        if (!_config.Endpoints && candidate.Values.FirstOrDefault(static c => c.Translated.EdsServiceName is not null) is { } eds)
        {
            throw ClusterTranslator.Reject(eds.Resource.Name, "type", "an EDS cluster needs endpoints from the server, and xds.resources does not take them; add endpoints to xds.resources or send a STATIC cluster");
        }
    }

    /// <summary>The resources of a response as <typeparamref name="T"/>, unwrapping <c>Resource</c> envelopes.</summary>
    private static List<T> Unpack<T>(DiscoveryResponse response, MessageParser<T> parser)
        where T : IMessage<T>, new() => DiscoveryResponses.Unpack(response, parser);

    /// <summary>
    /// Handles one response under <see cref="UpdateGate"/>: the stores and the runtime change one update at a time,
    /// whether it comes from this stream, an absence timer or an SDS server's stream.
    /// </summary>
    private async Task GatedAsync(Func<Task> handle)
    {
        await UpdateGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await handle().ConfigureAwait(false);
        }
        finally
        {
            UpdateGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            try
            {
                await _run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }

    /// <summary>Writes the requests of one stream; the node goes on the first only (xds_protocol, "Node").</summary>
    private sealed class StreamWriter(IClientStreamWriter<DiscoveryRequest> requests, Node node)
    {
        private bool _nodeSent;

        public Task SendAsync(XdsTypeState state, IReadOnlyList<string> names)
        {
            state.Names = names;
            state.Requested = true;
            var request = NewRequest(state.TypeUrl, state.Version, state.Nonce);
            request.ResourceNames.Add(names);
            return requests.WriteAsync(request);
        }

        /// <summary>A NACK: the last good version, the rejected response's nonce, and why (google.rpc.Status, INVALID_ARGUMENT).</summary>
        public Task NackAsync(XdsTypeState state, DiscoveryResponse response, string error)
        {
            state.Nonce = response.Nonce;
            var request = NewRequest(response.TypeUrl, state.Version, response.Nonce);
            request.ResourceNames.Add(state.Names);
            request.ErrorDetail = new Google.Rpc.Status { Code = (int)StatusCode.InvalidArgument, Message = error };
            return requests.WriteAsync(request);
        }

        private DiscoveryRequest NewRequest(string typeUrl, string version, string nonce)
        {
            var request = new DiscoveryRequest { TypeUrl = typeUrl, VersionInfo = version, ResponseNonce = nonce };
            if (!_nodeSent)
            {
                request.Node = node;
                _nodeSent = true;
            }

            return request;
        }
    }
}
