namespace Proxy.Observability.Tracing;

/// <summary>
/// One finished span, as exported: ids, name, kind, start and end (Unix nanoseconds) and the proxy's fixed set of
/// attributes. A preallocated, reusable object rented from <see cref="OtlpExporter.TryRent"/>; the method is
/// copied into its own buffer, other strings are existing ones (route, cluster and endpoint names).
/// </summary>
public sealed class TraceSpan
{
    private readonly byte[] _method = new byte[32];
    private int _methodLength;

    /// <summary>Span name, e.g. the route name or "ingress".</summary>
    public string Name { get; set; } = "";

    /// <summary>Server (downstream request) or client (upstream attempt).</summary>
    public SpanKind Kind { get; set; } = SpanKind.Server;

    /// <summary>The span's own context (trace id, span id, sampled).</summary>
    public SpanContext Context { get; set; }

    /// <summary>The parent span id, or default for a root span.</summary>
    public SpanId ParentSpanId { get; set; }

    /// <summary>Start, Unix epoch nanoseconds.</summary>
    public long StartUnixNanos { get; set; }

    /// <summary>End, Unix epoch nanoseconds.</summary>
    public long EndUnixNanos { get; set; }

    /// <summary><c>http.route</c>, or null.</summary>
    public string? Route { get; set; }

    /// <summary><c>http.status_code</c> (0 for none).</summary>
    public int StatusCode { get; set; }

    /// <summary><c>net.peer.ip</c> (the downstream or upstream address), or null.</summary>
    public string? PeerAddress { get; set; }

    /// <summary><c>net.peer.port</c> (0 for none).</summary>
    public int PeerPort { get; set; }

    /// <summary><c>upstream.endpoint</c>: the endpoint authority of a client span, or null.</summary>
    public string? UpstreamEndpoint { get; set; }

    /// <summary><c>upstream.cluster</c>, or null.</summary>
    public string? Cluster { get; set; }

    /// <summary>The client's SPIFFE ID (a server sidecar's requests), or null.</summary>
    public string? PeerIdentity { get; set; }

    /// <summary>The server's SPIFFE ID (a client sidecar's requests), or null.</summary>
    public string? UpstreamPeerIdentity { get; set; }

    /// <summary><c>proxy.response_flags</c>, or null.</summary>
    public string? ResponseFlags { get; set; }

    /// <summary>True marks the span's status as error (5xx or a proxy failure).</summary>
    public bool IsError { get; set; }

    /// <summary><c>http.method</c>.</summary>
    public ReadOnlySpan<byte> Method => _method.AsSpan(0, _methodLength);

    /// <summary>Copies the method (truncated to 32 bytes).</summary>
    public void SetMethod(ReadOnlySpan<byte> method)
    {
        _methodLength = Math.Min(method.Length, _method.Length);
        method[.._methodLength].CopyTo(_method);
    }

    /// <summary>Forgets every field before reuse.</summary>
    public void Clear()
    {
        Name = "";
        Kind = SpanKind.Server;
        Context = default;
        ParentSpanId = default;
        StartUnixNanos = EndUnixNanos = 0;
        Route = PeerAddress = UpstreamEndpoint = Cluster = ResponseFlags = PeerIdentity = UpstreamPeerIdentity = null;
        StatusCode = PeerPort = 0;
        IsError = false;
        _methodLength = 0;
    }

    /// <summary>Unix epoch nanoseconds of a UTC time (for start and end).</summary>
    public static long ToUnixNanos(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) * 100;
}
