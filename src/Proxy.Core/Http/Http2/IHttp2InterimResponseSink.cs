namespace Proxy.Http.Http2;

/// <summary>
/// Receives the interim (1xx) responses of a client-side stream (RFC 9113 8.1, RFC 9110 15.2): 100 Continue and
/// 103 Early Hints, which a proxy relays to its own client before the final response.
/// </summary>
public interface IHttp2InterimResponseSink
{
    /// <summary>
    /// Called on the connection's read loop under its lock, only while <paramref name="stream"/> is open: once the
    /// stream is reset or released no further call comes, so a consumer that resets before answering never races
    /// with this. Copy or write what is needed and return; do not block or await. The final response is signalled
    /// only after this returns.
    /// </summary>
    void OnInterimResponse(Http2Stream stream, Http2HeaderList headers);
}
