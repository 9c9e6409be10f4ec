namespace Proxy.LoadTests.Client;

/// <summary>What the load client needs from a response head: its size, status and body framing.</summary>
/// <param name="Length">Bytes of the status line and header section, including the final empty line.</param>
/// <param name="Status">The status code.</param>
/// <param name="ContentLength">The Content-Length value, or -1 when absent.</param>
/// <param name="Chunked">True when Transfer-Encoding ends in chunked.</param>
/// <param name="ConnectionClose">True when the server will close the connection after this response.</param>
public readonly record struct ResponseHead(int Length, int Status, long ContentLength, bool Chunked, bool ConnectionClose)
{
    /// <summary>RFC 9112 section 6.3: 1xx, 204 and 304 responses have no body whatever their headers say.</summary>
    public bool HasNoBody => Status < 200 || Status == 204 || Status == 304;
}
