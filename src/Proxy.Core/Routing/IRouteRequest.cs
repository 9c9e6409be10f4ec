namespace Proxy.Routing;

/// <summary>
/// The view of a request that route matching needs. The HTTP/1 request head and the HTTP/2
/// stream headers implement it over their own buffers, so matching copies and allocates nothing.
/// Implementations may be ref structs; <see cref="RouteTable.Match"/> is generic over them.
/// </summary>
public interface IRouteRequest
{
    /// <summary>The authority: the Host header (HTTP/1.1) or :authority (HTTP/2), port included or not. Empty when absent.</summary>
    ReadOnlySpan<byte> Host { get; }

    /// <summary>The path part of the request target only: no query string, no fragment, not decoded.</summary>
    ReadOnlySpan<byte> Path { get; }

    /// <summary>The query string: the bytes after the first '?' of the request target, without a fragment, not decoded. Empty when absent.</summary>
    ReadOnlySpan<byte> Query { get; }

    /// <summary>The method token ("GET").</summary>
    ReadOnlySpan<byte> Method { get; }

    /// <summary>
    /// Finds a header by name. <paramref name="lowerName"/> is lowercase ASCII; implementations compare
    /// case-insensitively. The value is returned without surrounding whitespace (RFC 9110 section 5.5).
    /// When the header is repeated, the first field line is returned.
    /// </summary>
    bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value);
}
