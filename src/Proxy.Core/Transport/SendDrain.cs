namespace Proxy.Transport;

/// <summary>
/// Waits until everything written to a connection has been handed to the socket. Completing a
/// pipe writer only marks the end; the send loop drains what is still buffered afterwards, and
/// disposing the connection before it finishes would drop the tail of a response or stream.
/// </summary>
public static class SendDrain
{
    /// <summary>
    /// Completes the output and returns once the send loop has finished (after its last send), or once
    /// <paramref name="timeout"/> passes for a peer that does not read.
    /// </summary>
    public static async Task CompleteAndWaitAsync(SocketPipe connection, TimeSpan timeout)
    {
        await connection.Output.CompleteAsync().ConfigureAwait(false);
        if (!connection.Sent.IsCompleted)
        {
            // WaitAsync removes its timer when the send finishes first; a Task.Delay here would
            // leave one timer per closed connection in the timer queue for the whole timeout.
            try
            {
                await connection.Sent.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // a peer that does not read: give up on the tail and close
            }
        }
    }
}
