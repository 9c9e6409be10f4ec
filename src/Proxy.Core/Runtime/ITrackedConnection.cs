namespace Proxy.Runtime;

/// <summary>A live downstream connection as the tracker sees it: idle checks and forced close on drain.</summary>
public interface ITrackedConnection
{
    /// <summary>Closes the connection if it has been idle past its timeout; called once a second.</summary>
    void CheckIdle(long nowMilliseconds);

    /// <summary>Closes the connection now (drain deadline passed, or shutdown).</summary>
    void Abort();
}
