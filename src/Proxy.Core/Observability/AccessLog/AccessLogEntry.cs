namespace Proxy.Observability.AccessLog;

/// <summary>
/// One access log line before formatting: a preallocated, reusable object rented from
/// <see cref="AccessLogWriter.TryRent"/>, filled on the request path and handed back with
/// <see cref="AccessLogWriter.Publish"/>. Byte fields (method, authority, path, request id) are copied into the
/// entry's own buffer, so the request's buffers can be reused at once and no string is made per request;
/// string fields take strings that already exist (names from the snapshot, the endpoint's authority, the
/// peer's SPIFFE ID). Values longer than the room left are truncated.
/// </summary>
public sealed class AccessLogEntry
{
    /// <summary>Room for all byte fields of one entry together.</summary>
    public const int ByteCapacity = 2048;

    private readonly byte[] _bytes = new byte[ByteCapacity];
    private int _used;
    private Slice _method;
    private Slice _authority;
    private Slice _path;
    private Slice _requestId;

    /// <summary>HTTP request or TCP connection.</summary>
    public AccessLogKind Kind { get; set; }

    /// <summary>When the request (or connection) started, UTC.</summary>
    public DateTime StartTime { get; set; }

    /// <summary>How long it took, in milliseconds.</summary>
    public double DurationMs { get; set; }

    /// <summary><c>HTTP/1.1</c>, <c>HTTP/2</c> or <c>TCP</c> (a constant string).</summary>
    public string? Protocol { get; set; }

    /// <summary>Response status (0 when none was sent, and for TCP).</summary>
    public int Status { get; set; }

    /// <summary>Bytes received from downstream.</summary>
    public long BytesReceived { get; set; }

    /// <summary>Bytes sent to downstream.</summary>
    public long BytesSent { get; set; }

    /// <summary>The upstream endpoint of the last attempt (its authority), or null.</summary>
    public string? UpstreamEndpoint { get; set; }

    /// <summary>Response flag short codes (<c>-</c> for none), e.g. <c>UF</c>, <c>UO</c>.</summary>
    public string? ResponseFlags { get; set; }

    /// <summary>Attempts made upstream (1 + retries).</summary>
    public int Attempts { get; set; }

    /// <summary>The downstream peer's identity (SPIFFE ID), or null.</summary>
    public string? PeerIdentity { get; set; }

    /// <summary>The upstream peer's identity (SPIFFE ID) a client sidecar required, or null.</summary>
    public string? UpstreamPeerIdentity { get; set; }

    /// <summary>The listener's name.</summary>
    public string? Listener { get; set; }

    /// <summary>The route's name, or null.</summary>
    public string? Route { get; set; }

    /// <summary>The cluster's name, or null.</summary>
    public string? Cluster { get; set; }

    /// <summary>High 64 bits of the W3C trace id, or 0 with <see cref="TraceIdLow"/> for none.</summary>
    public ulong TraceIdHigh { get; set; }

    /// <summary>Low 64 bits of the trace id.</summary>
    public ulong TraceIdLow { get; set; }

    /// <summary>The request method.</summary>
    public ReadOnlySpan<byte> Method => Get(_method);

    /// <summary>The request authority (Host).</summary>
    public ReadOnlySpan<byte> Authority => Get(_authority);

    /// <summary>The request path (with query).</summary>
    public ReadOnlySpan<byte> Path => Get(_path);

    /// <summary>The request id (x-request-id).</summary>
    public ReadOnlySpan<byte> RequestId => Get(_requestId);

    /// <summary>Copies the method.</summary>
    public void SetMethod(ReadOnlySpan<byte> value) => _method = Copy(value);

    /// <summary>Copies the authority.</summary>
    public void SetAuthority(ReadOnlySpan<byte> value) => _authority = Copy(value);

    /// <summary>Copies the path.</summary>
    public void SetPath(ReadOnlySpan<byte> value) => _path = Copy(value);

    /// <summary>Copies the request id.</summary>
    public void SetRequestId(ReadOnlySpan<byte> value) => _requestId = Copy(value);

    /// <summary>Forgets every field (done by the writer before the entry is rented again).</summary>
    public void Clear()
    {
        _used = 0;
        _method = _authority = _path = _requestId = default;
        Kind = AccessLogKind.Http;
        StartTime = default;
        DurationMs = 0;
        Protocol = UpstreamEndpoint = ResponseFlags = PeerIdentity = UpstreamPeerIdentity = Listener = Route = Cluster = null;
        Status = Attempts = 0;
        BytesReceived = BytesSent = 0;
        TraceIdHigh = TraceIdLow = 0;
    }

    private ReadOnlySpan<byte> Get(Slice slice) => _bytes.AsSpan(slice.Offset, slice.Length);

    private Slice Copy(ReadOnlySpan<byte> value)
    {
        int length = Math.Min(value.Length, ByteCapacity - _used);
        value[..length].CopyTo(_bytes.AsSpan(_used));
        var slice = new Slice(_used, length);
        _used += length;
        return slice;
    }

    private readonly record struct Slice(int Offset, int Length);
}
