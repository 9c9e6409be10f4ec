using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Proxy.Transport;

/// <summary>The exceptions that mean "the other side went away", shared by every forwarder.</summary>
public static class ConnectionErrors
{
    /// <summary>
    /// True for what reading or writing a connection's pipes throws once its socket was reset,
    /// closed or disposed (including a pipe already completed by the other direction).
    /// </summary>
    public static bool IsConnectionLoss(Exception ex) =>
        ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException
            or SocketException or ConnectionResetException or ConnectionAbortedException;
}
