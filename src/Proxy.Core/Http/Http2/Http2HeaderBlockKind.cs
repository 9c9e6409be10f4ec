namespace Proxy.Http.Http2;

/// <summary>What a field block carries, which decides the pseudo-header rules it is validated against (RFC 9113 8.3).</summary>
public enum Http2HeaderBlockKind
{
    /// <summary>Request headers: :method, :scheme, :path (:authority optional), no :status.</summary>
    Request,

    /// <summary>Response headers: exactly :status.</summary>
    Response,

    /// <summary>Trailers: no pseudo-header at all.</summary>
    Trailers,
}
