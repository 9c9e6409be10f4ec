using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Proxy.Transport;

/// <summary>What a listener hands each accepted connection to.</summary>
public interface IConnectionHandler
{
    /// <summary>
    /// Serves one downstream connection until it ends. The listener closes it afterwards (see
    /// <see cref="SocketClose"/>), so once the returned task completes nothing may read or write its pipes.
    /// </summary>
    Task HandleAsync(SocketConnection connection, Socket socket);
}
