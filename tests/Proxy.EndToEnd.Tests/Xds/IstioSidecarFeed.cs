using System.Collections.Concurrent;
using Envoy.Config.Cluster.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// One sidecar's stream, answered as istiod answers it (state of the world): the clusters and listeners at the first
/// wildcard request, and the endpoints and route configurations the sidecar names, whenever the names it asks for
/// change. Every NACK is kept with its sentence; <see cref="PushAsync"/> sends a new version of one type.
/// </summary>
public sealed class IstioSidecarFeed
{
    private readonly AdsSession _session;
    private readonly ConcurrentDictionary<string, IMessage[]> _resources = new();
    private readonly ConcurrentDictionary<string, (string Version, string Nonce)> _sent = new();
    private readonly ConcurrentDictionary<string, string> _acked = new();
    private readonly ConcurrentDictionary<string, string> _answeredNames = new();
    private readonly ConcurrentQueue<string> _nacks = new();
    private int _version;

    public IstioSidecarFeed(AdsSession session, DiscoveryRequest first, IEnumerable<Cluster> clusters, IEnumerable<ClusterLoadAssignment> endpoints,
        IEnumerable<Listener> listeners, IEnumerable<RouteConfiguration> routes)
    {
        _session = session;
        NodeId = first.Node?.Id ?? "";
        _resources[XdsTypeUrls.Cluster] = [.. clusters];
        _resources[XdsTypeUrls.ClusterLoadAssignment] = [.. endpoints];
        _resources[XdsTypeUrls.Listener] = [.. listeners];
        _resources[XdsTypeUrls.RouteConfiguration] = [.. routes];
        Serving = Task.Run(() => ServeAsync(first));
    }

    public string NodeId { get; }

    /// <summary>Ends when the stream does.</summary>
    public Task Serving { get; }

    /// <summary>The NACKs received, as "TYPE: error_detail".</summary>
    public IReadOnlyCollection<string> Nacks => _nacks;

    /// <summary>Whether the last response of each of the four types was ACKed.</summary>
    public bool AllAcked =>
        new[] { XdsTypeUrls.Cluster, XdsTypeUrls.ClusterLoadAssignment, XdsTypeUrls.Listener, XdsTypeUrls.RouteConfiguration }
            .All(t => _sent.TryGetValue(t, out var sent) && _acked.TryGetValue(t, out var version) && version == sent.Version);

    /// <summary>Replaces the resources of <paramref name="typeUrl"/> and sends them as a new version.</summary>
    public Task PushAsync(string typeUrl, params IMessage[] resources)
    {
        _resources[typeUrl] = resources;
        var named = typeUrl is XdsTypeUrls.ClusterLoadAssignment or XdsTypeUrls.RouteConfiguration;
        return SendAsync(typeUrl, named && _answeredNames.TryGetValue(typeUrl, out var names) ? names.Split(',', StringSplitOptions.RemoveEmptyEntries) : null);
    }

    private async Task ServeAsync(DiscoveryRequest first)
    {
        var request = first;
        while (true)
        {
            await HandleAsync(request);
            try
            {
                request = await _session.Requests.Reader.ReadAsync();
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                return;
            }
        }
    }

    private async Task HandleAsync(DiscoveryRequest request)
    {
        var type = request.TypeUrl;
        if (request.ErrorDetail is { } error)
        {
            _nacks.Enqueue($"{type}: {error.Message}");
        }
        else if (_sent.TryGetValue(type, out var sent) && sent.Nonce == request.ResponseNonce)
        {
            _acked[type] = request.VersionInfo;
        }

        var named = type is XdsTypeUrls.ClusterLoadAssignment or XdsTypeUrls.RouteConfiguration;
        var names = string.Join(',', request.ResourceNames.Order(StringComparer.Ordinal));
        var answered = _answeredNames.TryGetValue(type, out var before);
        if (_resources.ContainsKey(type) && (!answered || (named && before != names)))
        {
            await SendAsync(type, named ? request.ResourceNames : null);
        }
    }

    private async Task SendAsync(string type, IEnumerable<string>? names)
    {
        var wanted = names?.ToHashSet(StringComparer.Ordinal);
        if (wanted is not null)
        {
            _answeredNames[type] = string.Join(',', wanted.Order(StringComparer.Ordinal));
        }
        else
        {
            _answeredNames.TryAdd(type, "*");
        }

        var resources = _resources[type].Where(r => wanted is null || wanted.Contains(NameOf(r))).ToArray();
        var version = "v" + Interlocked.Increment(ref _version);
        var nonce = await _session.SendAsync(type, version, resources);
        _sent[type] = (version, nonce);
    }

    private static string NameOf(IMessage resource) => resource switch
    {
        ClusterLoadAssignment assignment => assignment.ClusterName,
        RouteConfiguration routes => routes.Name,
        Cluster cluster => cluster.Name,
        Listener listener => listener.Name,
        _ => "",
    };
}
