using System.Net.Sockets;

namespace Proxy.Transport;

/// <summary>What a listener hands each accepted connection to.</summary>
public interface IConnectionHandler
{
    /// <summary>
    /// Serves one downstream connection until it ends. The listener closes it afterwards (see
    /// <see cref="SocketClose"/>), so once the returned task completes nothing may read or write its pipes.
    /// </summary>
    Task HandleAsync(SocketPipe connection, Socket socket);
}
