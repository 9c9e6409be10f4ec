using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// What the access log and the span record of a finished request (see <see cref="RequestTrace.Publish"/>): spans
/// into the request's own buffers, which the entry copies, and strings that already exist (names from the
/// snapshot, the endpoint's authority, a constant protocol).
/// </summary>
internal ref struct FinishedRequest
{
    /// <summary><c>HTTP/1.1</c>, <c>HTTP/1.0</c> or <c>HTTP/2</c>.</summary>
    public string Protocol;

    public ReadOnlySpan<byte> Method;

    public ReadOnlySpan<byte> Authority;

    /// <summary>The path without the query, as routes match it.</summary>
    public ReadOnlySpan<byte> Path;

    public ReadOnlySpan<byte> RequestId;

    /// <summary>The status the client got.</summary>
    public int Status;

    public ResponseFlag Flag;

    public double ElapsedMs;

    public long BytesReceived;

    public long BytesSent;

    /// <summary>Attempts made upstream (1 + retries); 0 when the proxy answered before trying.</summary>
    public int Attempts;

    public string Listener;

    public string? Route;

    public string? Cluster;

    /// <summary>The endpoint whose response was relayed; null for an answer the proxy made.</summary>
    public Endpoint? Endpoint;

    /// <summary>The client's SPIFFE ID, as its certificate proved it (a server sidecar's requests); null otherwise.</summary>
    public string? DownstreamPeer;

    /// <summary>The server's SPIFFE ID, as the mutual TLS to it required it (a client sidecar's requests); null otherwise.</summary>
    public string? UpstreamPeer;
}
