using System.Text;
using Proxy.LoadBalancing;
using Proxy.Observability;

namespace Proxy.Upstream;

/// <summary>
/// A named set of endpoints with one load-balancing policy and its timeouts: the runtime form of a
/// cluster in one configuration snapshot. Immutable; a reload builds a new one (its endpoints,
/// with their pools and load state, carry over when unchanged).
/// </summary>
public sealed class Cluster
{
    private readonly Endpoint[] _endpoints;
    private readonly IEndpointPicker _picker;

    public Cluster(string name, Endpoint[] endpoints, IEndpointPicker picker, ClusterSettings settings, ClusterMetrics metrics, ClusterResilience? resilience = null)
    {
        Resilience = resilience ?? ClusterResilience.None;
        Name = name;
        _endpoints = endpoints;
        _picker = picker;
        Settings = settings;
        Metrics = metrics;
        HashHeader = settings.HashOn is { } hashOn && hashOn.StartsWith("header:", StringComparison.Ordinal)
            ? Encoding.ASCII.GetBytes(hashOn["header:".Length..].ToLowerInvariant())
            : null;
        HashOnClientAddress = settings.HashOn == "client_ip";
    }

    public string Name { get; }

    public IReadOnlyList<Endpoint> Endpoints => _endpoints;

    public ClusterSettings Settings { get; }

    public TimeSpan ConnectTimeout => Settings.ConnectTimeout;

    public ClusterMetrics Metrics { get; }

    /// <summary>Circuit breaker, outlier detection and active health checks of this cluster.</summary>
    public ClusterResilience Resilience { get; }

    /// <summary>Lowercase header name whose value keys ring_hash / maglev picks, if configured.</summary>
    public byte[]? HashHeader { get; }

    /// <summary>Whether ring_hash / maglev picks are keyed by the client address.</summary>
    public bool HashOnClientAddress { get; }

    /// <summary>
    /// The endpoints of an original-destination cluster, made per destination as traffic needs them (then
    /// <see cref="Endpoints"/> is empty and picks follow <see cref="PickContext.Destination"/>); null for an ordinary one.
    /// </summary>
    public OriginalDestinationEndpoints? OriginalDestinations { get; init; }

    /// <summary>
    /// Whether an HTTP/1.1 client's requests to this cluster become HTTP/2 streams (its endpoints have multiplexed
    /// pools, and it does not follow the client's version). An HTTP/2 client's go to an endpoint's multiplexed pool
    /// whenever it has one.
    /// </summary>
    public bool SpeaksHttp2 => !Settings.FollowsDownstream && (_endpoints.Length > 0 ? _endpoints[0].Http2Pool is not null : OriginalDestinations?.Http2 == true);

    /// <summary>Picks a healthy endpoint, or null when none is healthy (counted).</summary>
    public Endpoint? Pick(in PickContext context)
    {
        Resilience.Outliers?.MaybeExpire();
        var endpoint = OriginalDestinations is { } originals
            ? context.Destination is { } destination ? originals.For(destination) : null
            : _picker.Pick(context);
        if (endpoint is null)
        {
            Metrics.NoHealthyEndpoint.Increment();
        }

        return endpoint;
    }
}
