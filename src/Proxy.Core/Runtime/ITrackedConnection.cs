namespace Proxy.Runtime;

/// <summary>A live downstream connection as the tracker sees it: idle checks and forced close on drain.</summary>
public interface ITrackedConnection
{
    /// <summary>Closes the connection if it has been idle past its timeout; called once a second.</summary>
    void CheckIdle(long nowMilliseconds);

    /// <summary>Closes the connection now (drain deadline passed, or shutdown).</summary>
    void Abort();

    /// <summary>
    /// The proxy drains: finish what is in flight and close at the next boundary the protocol has (an HTTP/1.1
    /// response with <c>Connection: close</c>, an idle keep-alive connection at once, HTTP/2 GOAWAY). Called once
    /// when the drain starts, and right after <see cref="ConnectionTracker.Add"/> for a connection accepted during it,
    /// possibly before the connection runs; it must not block.
    /// </summary>
    void Drain();
}
