using System.Net;
using Proxy.Configuration;
using Proxy.Upstream;

namespace Proxy.Runtime;

/// <summary>
/// The immutable runtime form of one validated configuration. New connections read the current
/// snapshot once, when accepted, and keep it: a reload never changes a connection mid-flight.
/// </summary>
public sealed class ProxySnapshot(ProxyConfig config, IReadOnlyDictionary<string, ListenerRuntime> listeners, IReadOnlyDictionary<string, Cluster> clusters, long generation)
{
    public ProxyConfig Config { get; } = config;

    public IReadOnlyDictionary<string, ListenerRuntime> Listeners { get; } = listeners;

    public IReadOnlyDictionary<string, Cluster> Clusters { get; } = clusters;

    /// <summary>
    /// The listeners by the address they were given (not their chains), for the hand-off of a connection to the
    /// listener of its original destination; built once per snapshot.
    /// </summary>
    public IReadOnlyDictionary<IPEndPoint, ListenerRuntime> ByAddress { get; init; } = new Dictionary<IPEndPoint, ListenerRuntime>();

    /// <summary>1 for the first configuration, then one more per successful reload.</summary>
    public long Generation { get; } = generation;
}
