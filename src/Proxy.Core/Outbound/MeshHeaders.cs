namespace Proxy.Outbound;

/// <summary>Fields one sidecar of this project adds for another, and the other removes before the app sees them.</summary>
public static class MeshHeaders
{
    /// <summary>
    /// On an HTTP/1.1 request the client sidecar carried as an HTTP/2 stream: the protocol the app used
    /// (<c>HTTP/1.1</c>), so the server sidecar gives its app HTTP/1.1 again (linkerd2-proxy's <c>l5d-orig-proto</c>).
    /// </summary>
    public const string OriginalProtocol = "x-proxy-orig-proto";
}
