using System.Collections.Concurrent;
using Proxy.Configuration;
using Proxy.Headers;
using Proxy.Observability;
using Proxy.Runtime;

namespace Proxy.Inbound;

/// <summary>
/// What a configuration decides about the inbound side: the mode, detection, opaque ports, the authorization policy
/// and this workload's labels, with the per-port HTTP views made from them. Immutable once made; a reload makes new
/// settings and the handler swaps them in (<see cref="InboundHandler.Update"/>), so a connection accepted afterwards
/// follows the new file, and every request, on any connection, is checked against the newest policy.
/// </summary>
internal sealed class InboundSettings
{
    public InboundSettings(MeshConfig config, string? localPrincipal)
    {
        Config = config;
        Authorization = new AuthorizationPolicy(config.Inbound.Authorization);
        LocalLabels = WorkloadLabels.Local(config.Workload, localPrincipal);
        ExchangeOnResponse = FieldChanges.Compile([new HeaderChangesConfig
        {
            Set = new ConfigList<HeaderValueConfig>([
                new HeaderValueConfig { Name = PeerMetadata.HeaderName, Value = PeerMetadata.Encode(LocalLabels) },
                new HeaderValueConfig { Name = PeerMetadata.IdHeaderName, Value = PeerMetadata.Id(LocalLabels) },
            ]),
        }], forResponse: true);
        TcpExchange = new TcpPeerExchanger(LocalLabels);
    }

    public MeshConfig Config { get; }

    public AuthorizationPolicy Authorization { get; }

    public WorkloadLabels LocalLabels { get; }

    /// <summary>This workload's metadata on every response, for the client sidecar's metrics.</summary>
    public FieldChanges? ExchangeOnResponse { get; }

    /// <summary>This workload's side of the TCP metadata exchange.</summary>
    public TcpPeerExchanger TcpExchange { get; }

    /// <summary>The HTTP views of the local app per port (HTTP/1.1 peers), made on first use.</summary>
    public ConcurrentDictionary<int, ListenerRuntime> Http1Listeners { get; } = new();

    /// <summary>The same for HTTP/2 peers.</summary>
    public ConcurrentDictionary<int, ListenerRuntime> Http2Listeners { get; } = new();
}
