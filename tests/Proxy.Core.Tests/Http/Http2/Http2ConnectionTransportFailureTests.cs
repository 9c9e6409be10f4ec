using System.IO.Pipelines;
using System.Net.Sockets;
using Proxy.Http.Http2;

namespace Proxy.Core.Tests.Http.Http2;

/// <summary>
/// A send that fails because the peer went away. With inline schedulers the socket send runs inside the pipe's
/// FlushAsync, so the failure is thrown there, possibly on a thread pool work item (the scheduled flush): it must
/// end the connection, never escape (an exception escaping a work item ends the process).
/// </summary>
public class Http2ConnectionTransportFailureTests
{
    [Fact]
    public async Task ScheduledFlush_ThatThrowsBrokenPipe_EndsTheConnection()
    {
        var fromPeer = new Pipe();
        var toPeer = new Pipe();
        var output = new BreakingWriter(toPeer.Writer);
        var connection = new Http2ClientConnection(new DuplexPipe(fromPeer.Reader, output), new NoopDisposable());
        connection.Start();

        // The peer's SETTINGS, so streams may open. Two flushes: the opening frames, then the read loop's after it
        // processed the SETTINGS (its ACK); after that the read loop waits for bytes and sends nothing.
        Http2FrameWriter.WriteSettings(fromPeer.Writer, ReadOnlySpan<Http2Setting>.Empty);
        await fromPeer.Writer.FlushAsync();
        await WaitUntilAsync(() => Volatile.Read(ref output.Flushes) >= 2);

        // From now on every send fails as a reset socket does; the scheduled flush meets it on the thread pool.
        output.Broken = true;
        var headers = new Http2HeaderList();
        headers.Add(":method"u8, "GET"u8);
        headers.Add(":scheme"u8, "http"u8);
        headers.Add(":authority"u8, "test"u8);
        headers.Add(":path"u8, "/"u8);
        Http2Stream? stream = connection.TryOpenStream(headers, endStream: true);
        Assert.NotNull(stream);
        connection.ScheduleFlush();

        // The connection ends by itself: its read loop stops and the open stream is aborted.
        Task finished = await Task.WhenAny(connection.Completion, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(connection.Completion, finished);
        Assert.True(connection.IsClosed);
        Assert.False(await stream!.HeadersReceived);
        Assert.True(output.Throws > 0);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class NoopDisposable : IDisposable
    {
        public void Dispose()
        {
        }
    }

    /// <summary>Forwards to a pipe until <see cref="Broken"/>, then throws EPIPE from FlushAsync as the socket library does.</summary>
    private sealed class BreakingWriter(PipeWriter inner) : PipeWriter
    {
        public volatile bool Broken;
        public int Flushes;
        public int Throws;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (Broken)
            {
                Interlocked.Increment(ref Throws);
                throw new SocketException((int)SocketError.Shutdown, "Broken pipe");
            }

            Interlocked.Increment(ref Flushes);
            return inner.FlushAsync(cancellationToken);
        }
    }
}
