using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Envoy.Config.Core.V3;
using Envoy.Service.Discovery.V3;
using Envoy.Service.Secret.V3;
using Grpc.Core;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Xds.Translation;
using Secret = Envoy.Extensions.TransportSockets.Tls.V3.Secret;

namespace Proxy.Xds.Protocol;

/// <summary>
/// SDS from a server beside the management server, one of <c>xds.secret_servers</c> (istio-agent serves
/// <c>default</c> and <c>ROOTCA</c> on <c>./var/run/secrets/workload-spiffe-uds/socket</c>, which istiod names
/// <c>sds-grpc</c>): <c>SecretDiscoveryService.StreamSecrets</c>, state of the world, type Secret (xds_protocol, as for
/// an <c>api_config_source</c> with <c>api_type: GRPC</c>). The stream opens once an accepted cluster or listener names
/// a secret of this server, and asks for exactly the names they name, re-sent when that set changes (it closes when
/// none is named any more). The node goes on the first request of each stream; an accepted response is ACKed with its
/// version and nonce, a rejected one NACKed with the last accepted version, its nonce and the reason. Accepted secrets
/// go into the same <see cref="XdsSecretStore"/> as those over ADS, so a rotation reaches new handshakes, upstream and
/// downstream, while open connections keep theirs. A failed stream is reopened after the same jittered backoff as ADS,
/// restating the last accepted version; what was accepted keeps serving meanwhile.
/// </summary>
public sealed class SecretServerClient : IAsyncDisposable
{
    private readonly XdsSecretServerConfig _server;
    private readonly TimeSpan _connectTimeout;
    private readonly XdsClusterStore _store;
    private readonly SemaphoreSlim _gate;
    private readonly Func<IReadOnlyList<ClusterConfig>, Task<string?>> _apply;
    private readonly XdsMetrics _metrics;
    private readonly Logger _log;
    private readonly XdsBackoff _backoff;
    private readonly Node _node;
    private readonly XdsTypeState _state = new(XdsTypeUrls.Secret);
    private readonly CancellationTokenSource _stop = new();

    // One pending wake-up while idle; the open stream's events (responses, and null for "the references changed").
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private volatile Channel<DiscoveryResponse?>? _events;
    private Task? _run;
    private bool _gotResponse;

    /// <param name="gate">The update gate shared with the ADS client: the stores and the runtime change one update at a time.</param>
    /// <param name="apply">Makes the clusters serve (as for the ADS client); null when they do, else the NACK's sentence.</param>
    public SecretServerClient(XdsSecretServerConfig server, XdsConfig config, XdsClusterStore store, SemaphoreSlim gate,
        Func<IReadOnlyList<ClusterConfig>, Task<string?>> apply, XdsMetrics metrics, Logger log, XdsBackoff? backoff = null)
    {
        _server = server;
        _connectTimeout = config.ConnectTimeout;
        _store = store;
        _gate = gate;
        _apply = apply;
        _metrics = metrics;
        _log = log;
        _backoff = backoff ?? new XdsBackoff();
        _node = XdsNode.From(config.Node);
    }

    /// <summary>The listeners from the management server, whose TLS chains may wait for this server's secrets.</summary>
    public XdsListenerStore? ListenerStore { get; init; }

    /// <summary>Makes a set of listeners serve (as for the ADS client).</summary>
    public Func<XdsListenerSet, Task<string?>>? ApplyListeners { get; init; }

    /// <summary>The name the resources give this server (its key in <c>xds.secret_servers</c>).</summary>
    public string Name => _server.Name;

    /// <summary>The version_info last accepted from this server ("" before the first).</summary>
    public string Version => _state.Version;

    public void Start()
    {
        _store.Secrets.ReferencesChanged += OnReferencesChanged;
        _run = Task.Run(RunAsync);
    }

    /// <summary>What the accepted clusters and listeners name changed: the stream (or the idle loop) looks again.</summary>
    private void OnReferencesChanged()
    {
        _wake.Writer.TryWrite(true);
        _events?.Writer.TryWrite(null);
    }

    /// <summary>The names the accepted clusters and listeners wait for from this server, sorted.</summary>
    private IReadOnlyList<string> Wanted() => _store.SecretNames(_server.Name);

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            string reason;
            _gotResponse = false;
            try
            {
                if (Wanted().Count == 0)
                {
                    await _wake.Reader.ReadAsync(token).ConfigureAwait(false); // nothing to ask for: no stream
                    continue;
                }

                using var channel = XdsChannelFactory.Create(_server.Address, null, _connectTimeout);
                var client = new SecretDiscoveryService.SecretDiscoveryServiceClient(channel);
                if (await StreamAsync(client, token).ConfigureAwait(false))
                {
                    continue; // closed because nothing names this server's secrets any more
                }

                reason = "the server closed it";
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex)
            {
                reason = ex.Status.DebugException?.GetBaseException().Message is { Length: > 0 } cause ? cause
                    : ex.Status.Detail.Length > 0 ? ex.Status.Detail : ex.StatusCode.ToString();
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                // Whatever ended this stream must not end the client: the secrets last accepted keep serving.
                reason = ex.GetBaseException().Message;
            }

            _metrics.SecretServerConnected(_server.Name).Set(0);
            _metrics.SecretServerFailures(_server.Name).Increment();
            if (_gotResponse)
            {
                _backoff.Reset();
            }

            var delay = _backoff.Next();
            _log.Warn("the SDS stream to a secret server ended; the secrets last accepted from it keep serving, and the proxy reconnects after a backoff",
                ("secret_server", _server.Name), ("address", _server.Address.ToString()), ("reason", reason), ("retry_in_ms", (long)delay.TotalMilliseconds));
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

    /// <summary>One stream, until it fails or ends; true when it was closed because no secret of this server is named any more.</summary>
    private async Task<bool> StreamAsync(SecretDiscoveryService.SecretDiscoveryServiceClient client, CancellationToken token)
    {
        using var streamStop = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var call = client.StreamSecrets(cancellationToken: streamStop.Token);
        var events = Channel.CreateUnbounded<DiscoveryResponse?>(new UnboundedChannelOptions { SingleReader = true });
        _events = events;
        var writer = new SecretRequestWriter(call.RequestStream, _node, _state);
        ExceptionDispatchInfo? failure = null;
        var reading = Task.Run(async () =>
        {
            try
            {
                while (await call.ResponseStream.MoveNext(streamStop.Token).ConfigureAwait(false))
                {
                    events.Writer.TryWrite(call.ResponseStream.Current);
                }
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                events.Writer.TryComplete();
            }
        }, CancellationToken.None);

        try
        {
            // A new stream restates the last accepted version and the names wanted, with no nonce.
            _state.Nonce = "";
            await writer.SendAsync(Wanted()).ConfigureAwait(false);
            await foreach (var item in events.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                if (item is null)
                {
                    var names = Wanted();
                    if (names.Count == 0)
                    {
                        _log.Info("no secret of this SDS server is named any more; its stream closes", ("secret_server", _server.Name));
                        _metrics.SecretServerConnected(_server.Name).Set(0);
                        return true;
                    }

                    if (!names.SequenceEqual(_state.Names))
                    {
                        await writer.SendAsync(names).ConfigureAwait(false);
                    }

                    continue;
                }

                StreamUp();
                await OnSecretsAsync(writer, item, token).ConfigureAwait(false);
            }

            failure?.Throw();
            return false;
        }
        finally
        {
            _events = null;
            await streamStop.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
    }

    private void StreamUp()
    {
        if (!_gotResponse)
        {
            _gotResponse = true;
            _metrics.SecretServerConnected(_server.Name).Set(1);
            _log.Info("SDS stream to a secret server is up", ("secret_server", _server.Name), ("address", _server.Address.ToString()));
        }
    }

    private async Task OnSecretsAsync(SecretRequestWriter writer, DiscoveryResponse response, CancellationToken token)
    {
        var now = DateTimeOffset.UtcNow;
        string? error;
        var count = 0;
        await _gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (response.TypeUrl != XdsTypeUrls.Secret)
            {
                error = $"the proxy asks this SDS server for secrets ({XdsTypeUrls.Secret}) only, and got {response.TypeUrl}";
            }
            else
            {
                // Secrets not (or no longer) asked for are skipped: a response may cross an unsubscription.
                var wanted = new HashSet<string>(Wanted(), StringComparer.Ordinal);
                var resources = DiscoveryResponses.Unpack(response, Secret.Parser).Where(s => wanted.Contains(s.Name)).ToList();
                count = resources.Count;
                var candidate = _store.Secrets.Translate(resources, response.VersionInfo, now, _server.Name);

                // Each secret loaded once already, so this cannot fail half way; a rotation is in place, and clusters
                // and listeners that waited for a secret serve now.
                _store.Secrets.Commit(candidate, _server.Name);
                error = await _apply(_store.Configs()).ConfigureAwait(false);
                if (error is null && ListenerStore is { } listeners && ApplyListeners is { } applyListeners)
                {
                    error = await applyListeners(listeners.Configs()).ConfigureAwait(false);
                }
            }
        }
        catch (XdsRejectedException ex)
        {
            error = ex.Message;
        }
        finally
        {
            _gate.Release();
        }

        if (error is not null)
        {
            _metrics.Rejected("sds");
            _log.Warn("secrets from an SDS server rejected; the previous version keeps serving", ("secret_server", _server.Name), ("version", response.VersionInfo), ("kept_version", _state.Version), ("error", error));
            await writer.NackAsync(response, error).ConfigureAwait(false);
            return;
        }

        _state.Version = response.VersionInfo;
        _state.Nonce = response.Nonce;
        _metrics.Accepted("sds", response.VersionInfo, now);
        _log.Info("secrets from an SDS server accepted", ("secret_server", _server.Name), ("version", response.VersionInfo), ("secrets", count));
        await writer.SendAsync(_state.Names).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _store.Secrets.ReferencesChanged -= OnReferencesChanged;
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
}
