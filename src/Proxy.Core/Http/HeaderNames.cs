namespace Proxy.Http;

/// <summary>
/// Well-known field names as lowercase UTF-8 literals. Field names are case-insensitive
/// (RFC 9110 5.1); compare with <see cref="System.Text.Ascii.EqualsIgnoreCase(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>.
/// The proxy writes the names it adds in lowercase, which HTTP/2 requires anyway.
/// </summary>
public static class HeaderNames
{
    public static ReadOnlySpan<byte> Host => "host"u8;
    public static ReadOnlySpan<byte> ContentLength => "content-length"u8;
    public static ReadOnlySpan<byte> TransferEncoding => "transfer-encoding"u8;
    public static ReadOnlySpan<byte> Connection => "connection"u8;
    public static ReadOnlySpan<byte> KeepAlive => "keep-alive"u8;
    public static ReadOnlySpan<byte> TE => "te"u8;
    public static ReadOnlySpan<byte> Trailer => "trailer"u8;
    public static ReadOnlySpan<byte> Upgrade => "upgrade"u8;
    public static ReadOnlySpan<byte> ProxyConnection => "proxy-connection"u8;
    public static ReadOnlySpan<byte> ProxyAuthenticate => "proxy-authenticate"u8;
    public static ReadOnlySpan<byte> ProxyAuthorization => "proxy-authorization"u8;
    public static ReadOnlySpan<byte> Expect => "expect"u8;
    public static ReadOnlySpan<byte> Via => "via"u8;
    public static ReadOnlySpan<byte> XForwardedFor => "x-forwarded-for"u8;
    public static ReadOnlySpan<byte> XForwardedProto => "x-forwarded-proto"u8;
    public static ReadOnlySpan<byte> XForwardedHost => "x-forwarded-host"u8;
    public static ReadOnlySpan<byte> XRequestId => "x-request-id"u8;
    public static ReadOnlySpan<byte> XProxyError => "x-proxy-error"u8;
    public static ReadOnlySpan<byte> ContentType => "content-type"u8;
    public static ReadOnlySpan<byte> Date => "date"u8;
    public static ReadOnlySpan<byte> Server => "server"u8;
}
