using System.Buffers;
using System.IO.Pipelines;
using Proxy.Forwarding;
using Proxy.Http.Http2;

namespace Proxy.Tests.Forwarding;

public class StreamedBodyReplayTests
{
    [Fact]
    public void Record_WithinLimit_KeepsEveryByteInOrder()
    {
        var replay = new StreamedBodyReplay(limit: 100);
        replay.Record(new ReadOnlySequence<byte>(new byte[] { 1, 2, 3 }));
        replay.Record(ReadOnlySequence<byte>.Empty);
        replay.Record(new ReadOnlySequence<byte>(new byte[97]));

        Assert.True(replay.CanReplay);
        Assert.Equal(100, replay.Length);
    }

    [Fact]
    public void Record_OverLimit_StopsKeepingAndReturnsTheMemory()
    {
        var replay = new StreamedBodyReplay(limit: 100);
        replay.Record(new ReadOnlySequence<byte>(new byte[60]));
        replay.Record(new ReadOnlySequence<byte>(new byte[41]));

        Assert.False(replay.CanReplay);
        Assert.Equal(0, replay.Length);

        // Later bytes are not kept either: the body taken so far is incomplete for good.
        replay.Record(new ReadOnlySequence<byte>(new byte[1]));
        Assert.False(replay.CanReplay);
        Assert.Equal(0, replay.Length);
    }

    [Theory]
    [InlineData(false, "hello, world")]
    [InlineData(true, "c\r\nhello, world\r\n")]
    public async Task WriteHeld_HttpOneUpstream_WritesTheHeldBytesInTheRequestsFraming(bool chunked, string expected)
    {
        var replay = new StreamedBodyReplay(limit: 100);
        replay.Record(new ReadOnlySequence<byte>("hello, "u8.ToArray()));
        replay.Record(new ReadOnlySequence<byte>("world"u8.ToArray()));
        var pipe = new Pipe();

        replay.WriteHeld(pipe.Writer, chunked);
        await pipe.Writer.CompleteAsync();

        var result = await pipe.Reader.ReadAsync();
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(result.Buffer.ToArray()));
        Assert.True(replay.CanReplay); // kept: a later try may need them again
        Assert.Equal(12, replay.Length);
    }

    [Fact]
    public async Task WriteHeld_NothingHeld_WritesNothingNotEvenAnEmptyChunk()
    {
        var replay = new StreamedBodyReplay(limit: 100);
        var pipe = new Pipe();

        replay.WriteHeld(pipe.Writer, chunked: true);
        await pipe.Writer.CompleteAsync();

        var result = await pipe.Reader.ReadAsync();
        Assert.True(result.Buffer.IsEmpty); // an empty chunk would end the body (RFC 9112 7.1)
    }

    [Fact]
    public void Discard_ThenReset_ReadyForTheNextRequest()
    {
        var replay = new StreamedBodyReplay(limit: 100);
        replay.Record(new ReadOnlySequence<byte>(new byte[10]));
        replay.Discard();
        Assert.False(replay.CanReplay);
        Assert.Equal(0, replay.Length);

        replay.Reset();
        Assert.True(replay.CanReplay);
        replay.Record(new ReadOnlySequence<byte>(new byte[5]));
        Assert.Equal(5, replay.Length);
    }

    [Fact]
    public void Return_ThenRent_ResetObjectFromThePool()
    {
        var replay = StreamedBodyReplay.Rent();
        replay.Record(new ReadOnlySequence<byte>(new byte[10]));
        replay.Discard();
        StreamedBodyReplay.Return(replay);

        // Other tests may rent concurrently: whichever object comes back is ready for a request.
        var next = StreamedBodyReplay.Rent();
        Assert.True(next.CanReplay);
        Assert.Equal(0, next.Length);
        StreamedBodyReplay.Return(next);
    }

    [Fact]
    public async Task ClearPendingCancel_CancelNobodyObserved_NextReadGetsTheBytes()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { 1, 2, 3 });
        pipe.Reader.CancelPendingRead();

        StreamedBodyReplay.ClearPendingCancel(pipe.Reader);

        ReadResult result = await pipe.Reader.ReadAsync();
        Assert.False(result.IsCanceled);
        Assert.Equal(new byte[] { 1, 2, 3 }, result.Buffer.ToArray());
    }

    [Fact]
    public async Task ClearPendingCancel_ReaderFailed_Swallowed()
    {
        var pipe = new Pipe();
        pipe.Writer.Complete(new Http2StreamResetException(Http2ErrorCode.Cancel));
        pipe.Reader.CancelPendingRead();

        StreamedBodyReplay.ClearPendingCancel(pipe.Reader);

        await Assert.ThrowsAsync<Http2StreamResetException>(async () => await pipe.Reader.ReadAsync());
    }

    [Fact]
    public async Task SendHeldAsync_DiscardedWhileSending_MemoryKeptUntilTheSendEnds()
    {
        var fromPeer = new Pipe();
        var toPeer = new Pipe();
        var connection = new Http2ClientConnection(new DuplexPipe(fromPeer.Reader, toPeer.Writer), new NoopDisposable());
        connection.Start();
        _ = DrainAsync(toPeer.Reader);
        Http2FrameWriter.WriteSettings(fromPeer.Writer, ReadOnlySpan<Http2Setting>.Empty);
        await fromPeer.Writer.FlushAsync();
        var headers = new Http2HeaderList();
        headers.Add(":method"u8, "POST"u8);
        headers.Add(":scheme"u8, "http"u8);
        headers.Add(":authority"u8, "test"u8);
        headers.Add(":path"u8, "/"u8);
        Http2Stream stream = await OpenAsync(connection, headers);

        // 64 KiB held: one byte more than the initial windows (65,535, RFC 9113 6.9.2), so the replay waits for credit.
        var replay = new StreamedBodyReplay();
        replay.Record(new ReadOnlySequence<byte>(new byte[64 * 1024]));
        ValueTask<bool> sending = replay.SendHeldAsync(stream, endStream: true);
        await WaitUntilAsync(() => stream.SentBodyBytes == 65_535);
        Assert.False(sending.IsCompleted);

        // The response headers arrive meanwhile: nothing more is kept, but the bytes being sent stay.
        replay.Discard();
        Assert.False(replay.CanReplay);
        Assert.Equal(64 * 1024, replay.Length);

        Http2FrameWriter.WriteWindowUpdate(fromPeer.Writer, 0, 1000);
        Http2FrameWriter.WriteWindowUpdate(fromPeer.Writer, stream.Id, 1000);
        await fromPeer.Writer.FlushAsync();
        Assert.True(await sending);
        Assert.Equal(64 * 1024, stream.SentBodyBytes);
        Assert.Equal(0, replay.Length);
        fromPeer.Writer.Complete(); // the connection ends
        await connection.Completion;
    }

    private static async Task<Http2Stream> OpenAsync(Http2ClientConnection connection, Http2HeaderList headers)
    {
        for (var i = 0; i < 500; i++)
        {
            if (connection.TryOpenStream(headers, endStream: false) is { } stream)
            {
                return stream;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("no stream opened");
    }

    private static async Task DrainAsync(PipeReader reader)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
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
}
