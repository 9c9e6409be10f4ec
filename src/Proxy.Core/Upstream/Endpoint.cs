using System.Net;

namespace Proxy.Upstream;

/// <summary>
/// One upstream address of a cluster, with its weight and health. Shared by the pickers,
/// the connection pools and the health checks; the load state lives in Endpoint.Load.cs.
/// </summary>
public sealed partial class Endpoint
{
    private int _healthy = 1;

    public Endpoint(string authority, EndPoint address, int weight = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        Authority = authority;
        AuthorityBytes = System.Text.Encoding.ASCII.GetBytes(authority);
        Address = address;
        Weight = weight;
    }

    /// <summary>The address as configured ("10.0.0.5:9000", "api.local:80"); also the metrics label.</summary>
    public string Authority { get; }

    /// <summary><see cref="Authority"/> as ASCII bytes: the Host an <c>auto_host_rewrite</c> route sends, the value of <c>%UPSTREAM_REMOTE_ADDRESS%</c>.</summary>
    public byte[] AuthorityBytes { get; }

    /// <summary>
    /// Plain text even when the cluster originates TLS (the xDS client's per-endpoint transport socket choice); fixed
    /// for the endpoint's life, so its pooled connections are all of one kind.
    /// </summary>
    public bool PlainText { get; init; }

    /// <summary>The address the connector dials.</summary>
    public EndPoint Address { get; }

    /// <summary>
    /// The local address connections to this endpoint are made from (the cluster's <c>upstream_bind_config</c>, as
    /// Istio's inbound clusters bind 127.0.0.6); null lets the kernel choose. Set by the snapshot compiler.
    /// </summary>
    public IPAddress? SourceAddress { get; set; }

    /// <summary>Relative share of traffic (1 and up).</summary>
    public int Weight { get; }

    /// <summary>False while a health check or outlier detection has taken the endpoint out of rotation.</summary>
    public bool IsHealthy
    {
        get => Volatile.Read(ref _healthy) != 0;
        set => Volatile.Write(ref _healthy, value ? 1 : 0);
    }

    public override string ToString() => Authority;
}
