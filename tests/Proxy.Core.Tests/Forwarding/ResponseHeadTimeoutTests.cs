using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using Proxy.Async;
using Proxy.Forwarding;
using Proxy.Http.Http2;
using Proxy.Http.Http2.HPack;

namespace Proxy.Tests.Forwarding;

/// <summary>
/// The response-head timeout of a request forwarded to an HTTP/1.1 upstream (a cancelled read) or to an HTTP/2
/// upstream (the upstream stream reset with CANCEL, against a scripted peer over pipes), whichever the client spoke,
/// and the same wait ended by a client that goes away.
/// </summary>
public class ResponseHeadTimeoutTests
{
    [Fact]
    public void Disarm_NoTimeout_False()
    {
        var timeout = new ResponseHeadTimeout();
        var pipe = new Pipe();
        timeout.Arm(pipe.Reader, null);
        Assert.False(timeout.Disarm());
    }

    [Fact]
    public async Task Arm_Fires_CancelsPendingReadThenDisarmTrue()
    {
        var timeout = new ResponseHeadTimeout();
        var pipe = new Pipe();
        timeout.Arm(pipe.Reader, TimeSpan.FromMilliseconds(30));
        var result = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCanceled);
        pipe.Reader.AdvanceTo(result.Buffer.Start);
        Assert.True(timeout.Disarm());
    }

    /// <summary>
    /// A pipe that resumes its reader inline (as the upstream sockets' pipes do) wakes the waiter on the timer's thread,
    /// inside the cancellation: the waiter disarms there, and must be told the timeout fired.
    /// </summary>
    [Fact]
    public async Task Arm_Fires_InlineReaderDisarmsOnTheTimersThread_True()
    {
        var timeout = new ResponseHeadTimeout();
        var pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        timeout.Arm(pipe.Reader, TimeSpan.FromMilliseconds(30));
        var disarmed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = WaitThenDisarmAsync();
        Assert.True(await disarmed.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        async Task WaitThenDisarmAsync()
        {
            var result = await pipe.Reader.ReadAsync();
            pipe.Reader.AdvanceTo(result.Buffer.Start);
            disarmed.SetResult(result.IsCanceled && timeout.Disarm());
        }
    }

    /// <summary>A callback of an earlier wait that runs during a later one, before its deadline, cancels nothing.</summary>
    [Fact]
    public async Task OnTimer_LateCallbackOfEarlierWait_LaterWaitLeftAlone()
    {
        var timers = new CapturingTimeProvider();
        var timeout = new ResponseHeadTimeout(timers);
        var first = new Pipe();
        timeout.Arm(first.Reader, TimeSpan.FromMilliseconds(20));
        Assert.False(timeout.Disarm());

        var second = new Pipe();
        timeout.Arm(second.Reader, TimeSpan.FromSeconds(30));
        var read = second.Reader.ReadAsync();
        timers.RunCallback(); // the first wait's callback, late
        await Task.Delay(50);
        Assert.False(read.IsCompleted);
        Assert.False(timeout.Disarm());
        second.Writer.Complete();
        Assert.False((await read).IsCanceled);
    }

    /// <summary>The system's timers, remembering the callback so a test can run it when it likes.</summary>
    private sealed class CapturingTimeProvider : TimeProvider
    {
        private TimerCallback? _callback;
        private object? _state;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            (_callback, _state) = (callback, state);
            return System.CreateTimer(callback, state, dueTime, period);
        }

        public void RunCallback() => _callback!(_state);
    }

    [Fact]
    public async Task Disarm_BeforeDeadline_NothingCancelledLater()
    {
        var timeout = new ResponseHeadTimeout();
        var pipe = new Pipe();
        timeout.Arm(pipe.Reader, TimeSpan.FromMilliseconds(30));
        Assert.False(timeout.Disarm());
        await Task.Delay(150);

        // A read after the wait ended sees data, not a stray cancellation.
        await pipe.Writer.WriteAsync("x"u8.ToArray());
        var result = await pipe.Reader.ReadAsync();
        Assert.False(result.IsCanceled);
        Assert.Equal(1, result.Buffer.Length);
    }

    [Fact]
    public async Task Arm_ReusedForNextWait_FiresAgain()
    {
        var timeout = new ResponseHeadTimeout();
        var first = new Pipe();
        timeout.Arm(first.Reader, TimeSpan.FromMilliseconds(20));
        Assert.False(timeout.Disarm());

        // The next request on the same object: a new reader, a new deadline.
        var second = new Pipe();
        timeout.Arm(second.Reader, TimeSpan.FromMilliseconds(40));
        var result = await second.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCanceled);
        Assert.True(timeout.Disarm());
        Assert.False(first.Reader.TryRead(out _)); // the first reader was left alone
    }

    [Fact]
    public void Arm_BeyondTheTimersRange_ArmedNotThrown()
    {
        // grpc-timeout allows 99999999H (over 11,000 years): the timer waits its longest and is set again.
        var timeout = new ResponseHeadTimeout();
        var pipe = new Pipe();
        timeout.Arm(pipe.Reader, TimeSpan.FromHours(99_999_999));
        Assert.False(pipe.Reader.TryRead(out _));
        Assert.False(timeout.Disarm());
    }

    [Fact]
    public async Task Arm_UpstreamStreamUnanswered_ResetWithCancelAndWaitEndsFalse()
    {
        await using var peer = await ScriptedPeer.StartAsync();
        var timeout = new ResponseHeadTimeout();
        Http2Stream stream = await peer.OpenAsync();
        timeout.Arm(stream, TimeSpan.FromMilliseconds(30));

        Assert.False(await stream.HeadersReceived.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(timeout.Disarm());
        Assert.Equal(Http2ErrorCode.Cancel, stream.ResetCode);
        Assert.False(stream.ResetByPeer);
        Assert.Equal(Http2ErrorCode.Cancel, await peer.ResetOf(stream.Id).WaitAsync(TimeSpan.FromSeconds(10)));

        // The waiter took its result, so the object can serve another stream (one left waiting never is).
        stream.Input.Complete();
        Assert.True(stream.TryRecycle());
    }

    [Fact]
    public async Task Arm_UpstreamHeadersFirst_TimerLeavesTheStreamAlone()
    {
        await using var peer = await ScriptedPeer.StartAsync();
        var timeout = new ResponseHeadTimeout();
        Http2Stream stream = await peer.OpenAsync();
        timeout.Arm(stream, TimeSpan.FromMilliseconds(30));
        await peer.RespondAsync(stream.Id, endStream: false); // the body would follow: the stream stays open

        Assert.True(await stream.HeadersReceived.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        // The timer fires while still armed (the forwarder not yet back): the headers won, so it does nothing.
        await Task.Delay(150);
        Assert.False(timeout.Disarm());
        Assert.Null(stream.ResetCode);
        Assert.NotEqual(Http2StreamState.Closed, stream.State);
        await stream.Connection.ReleaseStreamAsync(stream);
    }

    [Fact]
    public async Task Arm_UpstreamHeadersAtTheDeadline_ExactlyOneWins()
    {
        await using var peer = await ScriptedPeer.StartAsync();

        // One timeout for every request, as a pooled downstream stream object or an HTTP/1.1 connection has, and
        // upstream stream objects that go back to the pool and come out again: a stale timer callback must never
        // touch a later stream.
        var timeout = new ResponseHeadTimeout();
        var timedOutIds = new List<int>();
        for (var i = 0; i < 200; i++)
        {
            Http2Stream stream = await peer.OpenAsync();
            int id = stream.Id;
            timeout.Arm(stream, TimeSpan.FromMilliseconds(1));
            Thread.Sleep(i % 12); // the response lands before, at, or after the deadline (a few ms: the clock is coarse)
            await peer.RespondAsync(id, endStream: true);
            bool received = await stream.HeadersReceived.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            bool timedOut = timeout.Disarm();

            Assert.NotEqual(received, timedOut);
            Assert.Equal(timedOut ? Http2ErrorCode.Cancel : (Http2ErrorCode?)null, stream.ResetCode);
            if (timedOut)
            {
                timedOutIds.Add(id);
            }

            await stream.Connection.ReleaseStreamAsync(stream);
        }

        // Every RST_STREAM the peer saw is a timed-out stream's: a PING answered after them proves none is pending.
        await peer.PingAsync();
        Assert.Equal(timedOutIds, peer.ResetIds());
        Assert.All(timedOutIds, id => Assert.Equal(Http2ErrorCode.Cancel, peer.ResetOf(id).Result));
    }

    [Fact]
    public async Task TryCancelBeforeResponse_StaleGeneration_Nothing()
    {
        await using var peer = await ScriptedPeer.StartAsync();
        Http2Stream stream = await peer.OpenAsync();

        Assert.False(stream.Connection.TryCancelBeforeResponse(stream, stream.Generation - 1));
        Assert.Null(stream.ResetCode);
        Assert.True(stream.Connection.TryCancelBeforeResponse(stream, stream.Generation));
        Assert.False(stream.Connection.TryCancelBeforeResponse(stream, stream.Generation)); // closed by then
        Assert.False(await stream.HeadersReceived);
        await stream.Connection.ReleaseStreamAsync(stream);
    }

    [Fact]
    public async Task Arm_WithoutTimeoutAfterOneWithTimeout_StaleTimerCancelsNothing()
    {
        var timeout = new ResponseHeadTimeout();
        var first = new Pipe();
        timeout.Arm(first.Reader, TimeSpan.FromMilliseconds(20));
        Assert.False(timeout.Disarm());

        // The next wait has no timeout: the earlier timer's callback, if it still comes, must leave it alone.
        var second = new Pipe();
        timeout.Arm(second.Reader, null);
        await Task.Delay(150);
        await second.Writer.WriteAsync("x"u8.ToArray());
        var result = await second.Reader.ReadAsync();
        Assert.False(result.IsCanceled);
        Assert.False(timeout.Disarm());
    }

    [Fact]
    public async Task OnDownstreamGone_DuringHttp1Wait_CancelsPendingReadAndMarksGone()
    {
        var timeout = new ResponseHeadTimeout();
        timeout.Begin();
        var pipe = new Pipe();
        timeout.Arm(pipe.Reader, null);
        var read = pipe.Reader.ReadAsync().AsTask();
        Assert.False(timeout.DownstreamGone);
        timeout.OnDownstreamGone();
        var result = await read.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCanceled);
        Assert.True(timeout.DownstreamGone);
        Assert.False(timeout.Disarm()); // not a timeout
    }

    [Fact]
    public async Task OnDownstreamGone_BeforeWait_WaitCancelledAtOnce()
    {
        var timeout = new ResponseHeadTimeout();
        timeout.Begin();
        timeout.OnDownstreamGone();
        await WaitUntilAsync(() => timeout.DownstreamGone);
        var pipe = new Pipe();
        timeout.Arm(pipe.Reader, null);
        var result = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCanceled);
        timeout.Disarm();

        // The next request on the same object starts with its client present.
        timeout.Begin();
        Assert.False(timeout.DownstreamGone);
    }

    [Fact]
    public async Task OnDownstreamGone_ReportRunsAfterNextRequestBegan_Ignored()
    {
        var timeout = new ResponseHeadTimeout();
        timeout.Begin();

        // Deferred to the end of a read batch, as on the read loop: the object moves on to its next request first.
        Assert.True(ReadBatch.Open());
        timeout.OnDownstreamGone();
        timeout.Begin();
        var pipe = new Pipe();
        timeout.Arm(pipe.Reader, null);
        ReadBatch.Close();

        Assert.False(timeout.DownstreamGone);
        await pipe.Writer.WriteAsync("x"u8.ToArray());
        var result = await pipe.Reader.ReadAsync();
        Assert.False(result.IsCanceled);
        Assert.False(timeout.Disarm());
    }

    [Fact]
    public async Task OnDownstreamGone_DuringHttp2Wait_UpstreamResetWithCancelAndWaitEndsFalse()
    {
        await using var peer = await ScriptedPeer.StartAsync();
        var timeout = new ResponseHeadTimeout();
        timeout.Begin();
        Http2Stream stream = await peer.OpenAsync();
        timeout.Arm(stream, null); // no route timeout: only the client's going away ends the wait
        timeout.OnDownstreamGone();

        Assert.False(await stream.HeadersReceived.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(timeout.Disarm()); // not a timeout
        Assert.True(timeout.DownstreamGone);
        Assert.Equal(Http2ErrorCode.Cancel, stream.ResetCode);
        Assert.Equal(Http2ErrorCode.Cancel, await peer.ResetOf(stream.Id).WaitAsync(TimeSpan.FromSeconds(10)));
        stream.Input.Complete();
        Assert.True(stream.TryRecycle());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.True(condition());
    }

    /// <summary>
    /// The upstream side of an <see cref="Http2ClientConnection"/> over pipes: it answers requests with HEADERS when
    /// told to and records the RST_STREAM frames the connection sends.
    /// </summary>
    private sealed class ScriptedPeer : IAsyncDisposable
    {
        private readonly Pipe _fromPeer = new();
        private readonly Pipe _toPeer = new();
        private readonly HPackEncoder _encoder = new();
        private readonly ConcurrentDictionary<int, TaskCompletionSource<Http2ErrorCode>> _resets = new();
        private readonly List<int> _resetOrder = [];
        private readonly SemaphoreSlim _pong = new(0);
        private readonly Http2ClientConnection _connection;
        private readonly Task _reading;

        private ScriptedPeer()
        {
            _connection = new Http2ClientConnection(new DuplexPipe(_fromPeer.Reader, _toPeer.Writer), new NoopDisposable());
            _connection.Start();
            _reading = ReadAsync();
        }

        public static async Task<ScriptedPeer> StartAsync()
        {
            var peer = new ScriptedPeer();
            Http2FrameWriter.WriteSettings(peer._fromPeer.Writer, ReadOnlySpan<Http2Setting>.Empty);
            await peer._fromPeer.Writer.FlushAsync();
            return peer;
        }

        /// <summary>Opens a GET stream (END_STREAM on the request: the stream is half closed locally).</summary>
        public async Task<Http2Stream> OpenAsync()
        {
            var headers = new Http2HeaderList();
            headers.Add(":method"u8, "GET"u8);
            headers.Add(":scheme"u8, "http"u8);
            headers.Add(":authority"u8, "test"u8);
            headers.Add(":path"u8, "/"u8);
            for (var i = 0; i < 500; i++)
            {
                if (_connection.TryOpenStream(headers, endStream: true) is { } stream)
                {
                    return stream;
                }

                await Task.Delay(10);
            }

            throw new TimeoutException("no stream opened");
        }

        /// <summary>Sends a 200 response header block on <paramref name="streamId"/>.</summary>
        public async Task RespondAsync(int streamId, bool endStream)
        {
            var block = new ArrayBufferWriter<byte>();
            _encoder.Encode(block, ":status"u8, "200"u8);
            Http2FrameWriter.WriteHeaders(_fromPeer.Writer, streamId, block.WrittenSpan, endStream, Http2Settings.DefaultMaxFrameSize);
            await _fromPeer.Writer.FlushAsync();
        }

        /// <summary>Sends a PING and waits for its ACK: every frame the connection wrote before it has been read.</summary>
        public async Task PingAsync()
        {
            Http2FrameWriter.WritePing(_fromPeer.Writer, 42, ack: false);
            await _fromPeer.Writer.FlushAsync();
            Assert.True(await _pong.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        /// <summary>Completes with the code of the connection's RST_STREAM for <paramref name="streamId"/>.</summary>
        public Task<Http2ErrorCode> ResetOf(int streamId) =>
            _resets.GetOrAdd(streamId, static _ => new TaskCompletionSource<Http2ErrorCode>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        /// <summary>The streams reset so far, in the order of their RST_STREAM frames.</summary>
        public List<int> ResetIds()
        {
            lock (_resetOrder)
            {
                return [.. _resetOrder];
            }
        }

        private async Task ReadAsync()
        {
            var reader = new Http2FrameReader();
            PipeReader input = _toPeer.Reader;
            ReadResult result = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            Assert.True(buffer.Length >= 24);
            input.AdvanceTo(buffer.GetPosition(24)); // the client connection preface
            while (true)
            {
                result = await input.ReadAsync();
                buffer = result.Buffer;
                var frames = new SequenceReader<byte>(buffer);
                while (reader.TryReadFrame(ref frames, out Http2Frame frame, out _) == Http2ReadStatus.Frame)
                {
                    if (frame.Type == Http2FrameType.RstStream)
                    {
                        lock (_resetOrder)
                        {
                            _resetOrder.Add(frame.StreamId);
                        }

                        _resets.GetOrAdd(frame.StreamId, static _ => new TaskCompletionSource<Http2ErrorCode>(TaskCreationOptions.RunContinuationsAsynchronously))
                            .TrySetResult(frame.ErrorCode);
                    }
                    else if (frame.Type == Http2FrameType.Ping && frame.IsAck)
                    {
                        _pong.Release();
                    }
                }

                input.AdvanceTo(frames.Position, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _fromPeer.Writer.Complete(); // the connection ends
            await _connection.Completion;
            _toPeer.Reader.Complete();
            await Task.WhenAny(_reading, Task.Delay(1000));
        }
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
}
