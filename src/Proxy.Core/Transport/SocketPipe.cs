using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Proxy.Transport;

/// <summary>
/// A connected socket as a pair of pipes: a receive loop moves what the socket reads into <see cref="Input"/>, and a
/// send loop hands what is written to <see cref="Output"/> to the socket, several buffered segments in one
/// <c>sendmsg</c>. Every listener's and connector's socket is one of these.
/// </summary>
/// <remarks>
/// <para>
/// Written for this proxy in place of Pipelines.Sockets.Unofficial's <c>SocketConnection</c>, whose receive loop asks
/// the kernel for the bytes available (<c>ioctl(FIONREAD)</c>) before every read: one system call in four of a
/// keep-alive request's (docs/benchmarks.md, "System calls per request"). Here an idle socket waits with a
/// zero-byte receive (so it holds no buffer while it waits, as before), and each wake-up reads once.
/// </para>
/// <para>
/// Ending: completing <see cref="Input"/> shuts the receive side down (a pending receive then ends with end of
/// stream); completing <see cref="Output"/> lets the send loop send what is left, then shut the send side down
/// (FIN). <see cref="Close"/> does both and closes the socket once the receive loop has ended, so nothing throws;
/// <see cref="Dispose"/> closes at once, also under a receive or send in progress.
/// </para>
/// </remarks>
public sealed class SocketPipe : IDuplexPipe, IDisposable
{
    private readonly Pipe _receive;
    private readonly Pipe _send;
    private readonly SocketInput _input;
    private readonly Task _sendLoop;
    private static long s_ended; // receive loops that ended: connections gone, for the idle trimmer
    private int _disposed;
    private int _closeState; // bit 1: Close asked for, bit 2: receive loop ended; the second to arrive closes the socket

    private SocketPipe(Socket socket, PipeOptions sendOptions, PipeOptions receiveOptions)
    {
        Socket = socket;
        _receive = new Pipe(receiveOptions);
        _send = new Pipe(sendOptions);
        _input = new SocketInput(_receive.Reader, this);
        _sendLoop = SendLoopAsync();
        _ = ReceiveLoopAsync();
    }

    /// <summary>
    /// Connections (listeners' and connectors') whose receive side has ended since the start: what they kept is garbage
    /// now, which <see cref="Buffers.IdleMemoryTrimmer"/> weighs when it decides to collect.
    /// </summary>
    public static long EndedConnections => Interlocked.Read(ref s_ended);

    /// <summary>Starts both loops over <paramref name="socket"/>, which must be connected.</summary>
    public static SocketPipe Create(Socket socket, PipeOptions sendOptions, PipeOptions receiveOptions) =>
        new(socket, sendOptions, receiveOptions);

    public Socket Socket { get; }

    /// <summary>What the socket received; completing it shuts the receive side down.</summary>
    public PipeReader Input => _input;

    /// <summary>What to send; completing it sends what is left, then FIN.</summary>
    public PipeWriter Output => _send.Writer;

    /// <summary>Completes when the send loop has ended: everything written was handed to the socket, or sending failed.</summary>
    public Task Sent => _sendLoop;

    /// <summary>
    /// The orderly close, for the owner when nothing else reads or writes the pipes any more: completes the output
    /// (the send loop sends what is left, shuts the send side down and returns), completes the input (shutdown of
    /// the receive side, which wakes the pending receive with end of stream), and closes the socket once the
    /// receive loop has ended.
    /// </summary>
    public void Close()
    {
        _send.Writer.Complete();
        _input.Complete();
        if ((Interlocked.Or(ref _closeState, 1) & 2) != 0)
        {
            Socket.Dispose();
        }
    }

    /// <summary>Closes the socket now; loops in progress end with an aborted operation.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            Socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // not connected any more, or closed already
        }

        Socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter writer = _receive.Writer;
        Exception? error = null;
        try
        {
            bool filled = false;
            while (true)
            {
                // Readiness first, with no buffer: an idle connection holds none while it waits for its next bytes.
                // After a read that filled its buffer more is most likely waiting (a large body): read at once.
                if (!filled)
                {
                    await Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                }

                Memory<byte> buffer = writer.GetMemory(1);
                int received = await Socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break; // end of stream
                }

                filled = received == buffer.Length;

                writer.Advance(received);
                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break; // the reader is done
                }
            }
        }
        catch (Exception ex)
        {
            error = ReceiveError(ex);
        }
        finally
        {
            Interlocked.Increment(ref s_ended);
            ShutdownReceive();
            writer.Complete(error);
            if ((Interlocked.Or(ref _closeState, 2) & 1) != 0)
            {
                Socket.Dispose();
            }
        }
    }

    private async Task SendLoopAsync()
    {
        PipeReader reader = _send.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break;
                }

                try
                {
                    if (!buffer.IsEmpty)
                    {
                        // A sender for this send only: a connection waiting for its next request keeps none. One whose
                        // send failed is not reused.
                        SocketSender sender = SocketSenderPool.Rent();
                        try
                        {
                            await sender.SendAsync(Socket, buffer).ConfigureAwait(false);
                        }
                        catch
                        {
                            sender.Dispose();
                            throw;
                        }

                        SocketSenderPool.Return(sender);
                    }
                    else if (result.IsCompleted)
                    {
                        break;
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
        {
            // closed by Dispose
        }
        catch (Exception ex)
        {
            error = ex as IOException ?? new IOException(ex.Message, ex);
        }
        finally
        {
            try
            {
                Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // not connected any more, or closed already
            }

            // Both halves: nobody sends any more, and a writer still writing learns it from its next flush.
            _send.Writer.Complete(error);
            reader.Complete(error);
        }
    }

    /// <summary>
    /// What the input's reader sees when the receive loop failed: a reset as <see cref="ConnectionResetException"/>,
    /// an aborted receive or a closed socket as <see cref="ConnectionAbortedException"/>, anything else as an
    /// <see cref="IOException"/> (the types every reader of a connection already treats as the peer going away).
    /// </summary>
    private static Exception ReceiveError(Exception ex) => ex switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionReset } reset => new ConnectionResetException(reset.Message, reset),
        SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.ConnectionAborted or SocketError.Interrupted or SocketError.InvalidArgument } => new ConnectionAbortedException(),
        ObjectDisposedException => new ConnectionAbortedException(),
        IOException io => io,
        _ => new IOException(ex.Message, ex),
    };

    /// <summary>Shuts the receive side down: a pending receive ends with end of stream.</summary>
    internal void ShutdownReceive()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // not connected any more, or closed already
        }
    }
}
