namespace Proxy.Http;

/// <summary>
/// The field names the codecs act on, recognised once at parse time so later stages
/// (framing, hop-by-hop filtering, forwarding headers) switch on a byte instead of comparing names.
/// </summary>
public enum KnownHeader : byte
{
    /// <summary>Any other field: forwarded as is.</summary>
    None = 0,
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    KeepAlive,
    TE,
    Trailer,
    Upgrade,
    ProxyConnection,
    ProxyAuthenticate,
    ProxyAuthorization,
    Expect,
    Via,
    XForwardedFor,
    XForwardedProto,
    XForwardedHost,
    XRequestId,

    /// <summary>W3C trace context (<c>traceparent</c>); replaced by the proxy's own span.</summary>
    TraceParent,

    /// <summary>Zipkin B3 propagation: <c>b3</c> and every <c>x-b3-*</c> field; replaced by the proxy's own span.</summary>
    B3,
}
