using Pipelines.Sockets.Unofficial;

namespace Proxy.Transport;

/// <summary>
/// Closes a socket connection in the order that lets both of its loops end by themselves, so
/// closing throws nothing. <c>SocketConnection.Dispose</c> closes the socket under a receive that
/// is still pending: the library then aborts that receive (a SocketException), its loop calls
/// Shutdown on the disposed socket (an ObjectDisposedException), and the runtime queues the
/// cancelled receive to the thread pool (a worker wakes and spins). Two exceptions and a thread
/// pool hop for every connection that closed.
/// </summary>
public static class SocketClose
{
    /// <summary>
    /// Ends the connection: completes the output (the send loop sends what is left, shuts down
    /// the send side and returns), completes the input (shutdown(SHUT_RD), which wakes the pending
    /// receive with end of stream), and closes the socket once the receive loop has finished.
    /// Only for the connection's owner when nothing else reads or writes its pipes any more.
    /// </summary>
    public static void Close(SocketConnection connection)
    {
        connection.Output.Complete();

        // Input first: completing it calls Shutdown on the socket, which must still be open then.
        connection.Input.Complete();
#pragma warning disable CS0618 // obsolete on PipeReader in general, but Pipe (inside SocketConnection) still raises it
        // The receive loop completes the input's writer as its last step; with the inline pipe
        // scheduler the callback runs right there (or here, when the loop has already ended).
        connection.Input.OnWriterCompleted(static (_, state) => ((SocketConnection)state!).Socket.Dispose(), connection);
#pragma warning restore CS0618
    }
}
