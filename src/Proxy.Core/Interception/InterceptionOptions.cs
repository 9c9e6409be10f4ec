namespace Proxy.Interception;

/// <summary>
/// What <c>proxy init</c> redirects and what it leaves alone: the proxy's ports, how its own traffic
/// is recognised (uid, gid, SO_MARK), and the inbound/outbound port and CIDR filters.
/// </summary>
public sealed record InterceptionOptions
{
    /// <summary>Port of the inbound listener (PREROUTING redirects here; default 15006).</summary>
    public int InboundPort { get; init; } = 15006;

    /// <summary>Port of the outbound listener (OUTPUT redirects here; default 15001).</summary>
    public int OutboundPort { get; init; } = 15001;

    /// <summary>The admin port, never redirected (default 15000).</summary>
    public int AdminPort { get; init; } = 15000;

    /// <summary>The proxy's user id: its own outbound connections are not redirected back to it.</summary>
    public int? ProxyUid { get; init; }

    /// <summary>The proxy's group id, the same way.</summary>
    public int? ProxyGid { get; init; }

    /// <summary>SO_MARK the proxy sets on its upstream sockets (ztunnel uses 0x539), the same way.</summary>
    public int? ProxyMark { get; init; }

    /// <summary>Inbound destination ports to redirect; empty means all.</summary>
    public IReadOnlyList<int> InboundIncludePorts { get; init; } = [];

    /// <summary>Inbound destination ports never redirected (ssh, health probes).</summary>
    public IReadOnlyList<int> InboundExcludePorts { get; init; } = [];

    /// <summary>Outbound destination ports to redirect; empty means all.</summary>
    public IReadOnlyList<int> OutboundIncludePorts { get; init; } = [];

    /// <summary>Outbound destination ports never redirected.</summary>
    public IReadOnlyList<int> OutboundExcludePorts { get; init; } = [];

    /// <summary>Outbound destination networks to redirect; empty means all.</summary>
    public IReadOnlyList<string> OutboundIncludeCidrs { get; init; } = [];

    /// <summary>Outbound destination networks never redirected.</summary>
    public IReadOnlyList<string> OutboundExcludeCidrs { get; init; } = [];
}
