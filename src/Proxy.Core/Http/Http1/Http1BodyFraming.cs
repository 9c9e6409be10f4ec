namespace Proxy.Http.Http1;

/// <summary>How the body of a message is delimited (RFC 9112 section 6.3).</summary>
public enum Http1BodyFraming : byte
{
    /// <summary>No body: HEAD responses, 1xx, 204, 304, or a request with neither length field.</summary>
    None = 0,
    /// <summary>Exactly Content-Length bytes follow (possibly zero).</summary>
    ContentLength,
    /// <summary>The chunked transfer coding (RFC 9112 7.1).</summary>
    Chunked,
    /// <summary>A response whose body runs until the upstream closes the connection.</summary>
    CloseDelimited,
    /// <summary>A 2xx answer to CONNECT: the connection becomes a byte tunnel.</summary>
    Tunnel,
}
