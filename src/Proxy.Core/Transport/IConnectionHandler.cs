using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Proxy.Transport;

/// <summary>What a listener hands each accepted connection to.</summary>
public interface IConnectionHandler
{
    /// <summary>Serves one downstream connection until it ends; the listener disposes it afterwards.</summary>
    Task HandleAsync(SocketConnection connection, Socket socket);
}
