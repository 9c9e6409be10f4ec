namespace Proxy.Upstream;

public sealed partial class Endpoint
{
    private Http2ConnectionPool? _http2Pool;

    /// <summary>
    /// The multiplexed HTTP/2 connections to this endpoint; set by the snapshot compiler when the cluster's protocol
    /// is http2, null otherwise (the forwarders then use <see cref="Pool"/> and HTTP/1.1).
    /// </summary>
    public Http2ConnectionPool? Http2Pool
    {
        get => Volatile.Read(ref _http2Pool);
        set => Volatile.Write(ref _http2Pool, value);
    }
}
