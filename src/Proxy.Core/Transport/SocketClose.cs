namespace Proxy.Transport;

/// <summary>
/// Closes a socket connection in the order that lets both of its loops end by themselves, so closing throws
/// nothing. Closing the socket under a receive that is still pending aborts that receive (a SocketException), and
/// the runtime queues the aborted receive to the thread pool (a worker wakes and spins): an exception and a thread
/// pool hop for every connection that closed.
/// </summary>
public static class SocketClose
{
    /// <summary>
    /// Ends the connection: completes the output (the send loop sends what is left, shuts down the send side and
    /// returns), completes the input (shutdown(SHUT_RD), which wakes the pending receive with end of stream), and
    /// closes the socket once the receive loop has finished (<see cref="SocketPipe.Close"/>). Only for the
    /// connection's owner when nothing else reads or writes its pipes any more.
    /// </summary>
    public static void Close(SocketPipe connection) => connection.Close();
}
