using System.Text.Json;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Tls;
using Proxy.Xds.Protocol;

namespace Proxy.Xds;

/// <summary>
/// The management server as a source of configuration beside the file: the ADS client, the resources it accepted,
/// and the composition of the file's configuration with them. The host hands it the file's configuration on start
/// and on every reload, and a way to apply a composed one.
/// </summary>
public sealed class XdsSource : IAsyncDisposable
{
    private readonly XdsConfig _config;
    private readonly XdsMetrics _metrics;
    private readonly Logger _log;
    private readonly XdsConfigComposer _composer = new();
    private IReadOnlyList<ClusterConfig> _serving = [];
    private XdsListenerSet _servingListeners = XdsListenerSet.Empty;
    private AdsClient? _client;
    private readonly List<SecretServerClient> _secretServers = [];

    // Every update (ADS responses, absence timers, the SDS servers' responses) changes the stores and the runtime under it.
    private readonly SemaphoreSlim _updateGate = new(1, 1);

    /// <param name="certificates">The runtime's certificate store, which serves SDS secrets and inline PEM to the clusters' TLS; a private one when null.</param>
    /// <param name="meshIdentity">
    /// The proxy's mesh identity (<c>mesh.identity</c>): istio-agent's <c>default</c> and <c>ROOTCA</c> secrets map onto it
    /// unless its socket is among <c>xds.secret_servers</c>.
    /// </param>
    public XdsSource(XdsConfig config, MetricsRegistry registry, Logger log, CertificateStore? certificates = null, MeshIdentityConfig? meshIdentity = null)
    {
        _config = config;
        _metrics = new XdsMetrics(registry);
        _log = log;
        var context = new Translation.XdsTranslationContext(meshIdentity)
        {
            SecretServers = new HashSet<string>(config.SecretServers.Select(static s => s.Name), StringComparer.Ordinal),
        };
        Store = new XdsClusterStore(new XdsSecretStore(certificates ?? new CertificateStore(Timeout.InfiniteTimeSpan)), context);
        Listeners = new XdsListenerStore(Store.Secrets, context);
    }

    /// <summary>The settings the client started with (a reload that changes them takes effect at the next start).</summary>
    public XdsConfig Config => _config;

    public XdsClusterStore Store { get; }

    /// <summary>The listeners and route configurations from the server (LDS, RDS).</summary>
    public XdsListenerStore Listeners { get; }

    /// <summary>The file's configuration with the clusters now serving from the server; null with <paramref name="error"/> when they clash.</summary>
    public ProxyConfig? Compose(ProxyConfig file, out string? error) => _composer.Compose(file, _serving, _servingListeners, out error);

    /// <summary>The file's configuration with <paramref name="clusters"/>, a candidate from the server.</summary>
    public ProxyConfig? Compose(ProxyConfig file, IReadOnlyList<ClusterConfig> clusters, out string? error) => _composer.Compose(file, clusters, _servingListeners, out error);

    /// <summary>The file's configuration with the serving clusters and <paramref name="listeners"/>, a candidate from the server.</summary>
    public ProxyConfig? ComposeListeners(ProxyConfig file, XdsListenerSet listeners, out string? error) => _composer.Compose(file, _serving, listeners, out error);

    /// <summary>Records that <paramref name="listeners"/> serve now (the runtime took a composition of them).</summary>
    public void ServingListeners(XdsListenerSet listeners) => _servingListeners = listeners;

    /// <summary>Records that <paramref name="clusters"/> serve now (the runtime took a composition of them).</summary>
    public void Serving(IReadOnlyList<ClusterConfig> clusters) => _serving = clusters;

    /// <summary>Opens the ADS stream in the background; <paramref name="apply"/> is called for each update (see <see cref="AdsClient"/>).</summary>
    public void Start(Func<IReadOnlyList<ClusterConfig>, Task<string?>> apply) => Start(apply, null);

    /// <summary>As <see cref="Start(Func{IReadOnlyList{ClusterConfig}, Task{string?}})"/>, with <paramref name="applyListeners"/> for LDS and RDS updates.</summary>
    public void Start(Func<IReadOnlyList<ClusterConfig>, Task<string?>> apply, Func<XdsListenerSet, Task<string?>>? applyListeners)
    {
        _client = new AdsClient(_config, Store, apply, _metrics, _log) { ListenerStore = Listeners, ApplyListeners = applyListeners, UpdateGate = _updateGate };
        foreach (var server in _config.SecretServers)
        {
            var secrets = new SecretServerClient(server, _config, Store, _updateGate, apply, _metrics, _log) { ListenerStore = Listeners, ApplyListeners = applyListeners };
            _secretServers.Add(secrets);
            secrets.Start(); // idle (no stream) until an accepted resource names one of its secrets
        }

        _client.Start();
        _log.Info("xDS client started; the file's configuration serves while the management server's resources arrive", ("server", _config.Server.ToString()), ("node", _config.Node.Id));
    }

    /// <summary>The items of Envoy's <c>configs</c> array for /config_dump.</summary>
    public void WriteConfigDump(Utf8JsonWriter writer, IReadOnlyList<ClusterConfig> fileClusters)
    {
        Admin.XdsConfigDumpWriter.WriteConfigs(writer, Store, _client?.Versions.Clusters ?? "", fileClusters);
        Admin.XdsSecretsDumpWriter.Write(writer, Store.Secrets);
    }

    /// <summary>The listener and route items of Envoy's <c>configs</c> array for /config_dump (after the clusters').</summary>
    public void WriteListenersDump(Utf8JsonWriter writer, IReadOnlyList<ListenerConfig> fileListeners) =>
        Admin.XdsListenersDumpWriter.WriteConfigs(writer, Listeners, _client?.ListenerVersions ?? ("", ""), fileListeners);

    public async ValueTask DisposeAsync()
    {
        foreach (var secrets in _secretServers)
        {
            await secrets.DisposeAsync().ConfigureAwait(false);
        }

        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
