namespace Proxy.Forwarding;

/// <summary>
/// A per-request access check run before routing, the same for HTTP/1.1 and HTTP/2 clients (mesh inbound with
/// HTTP authorization rules). <paramref name="target"/> is the request's path and query as sent (HTTP/1.1 origin
/// form, or HTTP/2 :path). False: the proxy answers 403 (gRPC: PERMISSION_DENIED) with flag rbac-access-denied.
/// </summary>
public delegate bool RequestAuthorizer(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target);
