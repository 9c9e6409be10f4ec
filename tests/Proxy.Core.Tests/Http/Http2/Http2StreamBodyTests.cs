using System.Buffers;
using System.IO.Pipelines;
using Proxy.Buffers;
using Proxy.Http.Http2;
using Xunit;

namespace Proxy.Core.Tests.Http.Http2;

/// <summary>
/// The stream body keeps the <see cref="PipeReader"/> contract its consumers were written against (they read a
/// <see cref="Pipe"/> before): bytes in order across blocks, examined-but-not-consumed bytes wait for more, a reset
/// makes reads throw, a cancelled read returns, and the object is reusable only once both ends are done.
/// </summary>
public class Http2StreamBodyTests
{
    private static ReadOnlySequence<byte> Bytes(int count, byte start = 0)
    {
        var bytes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            bytes[i] = (byte)(start + i);
        }

        return new ReadOnlySequence<byte>(bytes);
    }

    [Fact]
    public async Task BytesArriveInOrderAcrossBlocks()
    {
        var body = new Http2StreamBody();
        int total = (BlockMemoryPool.BlockSize * 2) + 100;
        body.Write(Bytes(total / 2));
        body.Write(Bytes(total - (total / 2), start: (byte)(total / 2)));
        body.CompleteWriter();

        ReadResult result = await body.ReadAsync();
        Assert.True(result.IsCompleted);
        Assert.Equal(total, result.Buffer.Length);
        byte[] read = result.Buffer.ToArray();
        for (int i = 0; i < total; i++)
        {
            Assert.Equal((byte)i, read[i]);
        }

        body.AdvanceTo(result.Buffer.End);
        body.Complete();
        Assert.True(body.TryReset());
    }

    [Fact]
    public async Task ARead_WithEverythingExamined_WaitsForMoreBytes()
    {
        var body = new Http2StreamBody();
        body.Write(Bytes(10));
        ReadResult first = await body.ReadAsync();
        Assert.Equal(10, first.Buffer.Length);
        body.AdvanceTo(first.Buffer.Start, first.Buffer.End); // nothing consumed, all examined

        ValueTask<ReadResult> pending = body.ReadAsync();
        Assert.False(pending.IsCompleted);

        body.Write(Bytes(5, start: 10));
        ReadResult second = await pending;
        Assert.Equal(15, second.Buffer.Length); // the unconsumed bytes are still there, the new ones after them
        Assert.Equal((byte)14, second.Buffer.Slice(14).FirstSpan[0]);
    }

    [Fact]
    public async Task ConsumedBytesAreGone_AndTheRestIsReadNext()
    {
        var body = new Http2StreamBody();
        body.Write(Bytes(10));
        ReadResult first = await body.ReadAsync();
        body.AdvanceTo(first.Buffer.GetPosition(4));

        ReadResult second = await body.ReadAsync();
        Assert.Equal(6, second.Buffer.Length);
        Assert.Equal((byte)4, second.Buffer.FirstSpan[0]);
    }

    [Fact]
    public async Task AnEmptyBuffersPositions_DoNotMarkLaterBytesExamined()
    {
        // A cancelled read hands out an empty buffer; bytes written before the reader advances past it are new to
        // the reader and must be returned by the next read, not waited past.
        var body = new Http2StreamBody();
        body.CancelPendingRead();
        ReadResult canceled = await body.ReadAsync();
        Assert.True(canceled.IsCanceled);
        Assert.True(canceled.Buffer.IsEmpty);

        body.Write(Bytes(3));
        body.AdvanceTo(canceled.Buffer.Start);

        ValueTask<ReadResult> next = body.ReadAsync();
        Assert.True(next.IsCompleted);
        Assert.Equal(3, (await next).Buffer.Length);
    }

    [Fact]
    public async Task CancelPendingRead_EndsAWaitingRead_AndTheNextReadWaitsAgain()
    {
        var body = new Http2StreamBody();
        ValueTask<ReadResult> pending = body.ReadAsync();
        Assert.False(pending.IsCompleted);

        body.CancelPendingRead();
        ReadResult result = await pending;
        Assert.True(result.IsCanceled);
        body.AdvanceTo(result.Buffer.Start);

        Assert.False(body.TryRead(out _));
    }

    [Fact]
    public async Task AReset_MakesAWaitingReadThrow()
    {
        var body = new Http2StreamBody();
        ValueTask<ReadResult> pending = body.ReadAsync();
        body.CompleteWriter(new Http2StreamResetException(Http2ErrorCode.Cancel));

        var ex = await Assert.ThrowsAsync<Http2StreamResetException>(async () => await pending);
        Assert.Equal(Http2ErrorCode.Cancel, ex.Code);
    }

    [Fact]
    public async Task TheEnd_IsSeenOnceTheBytesAreRead()
    {
        var body = new Http2StreamBody();
        ValueTask<ReadResult> pending = body.ReadAsync();
        body.Write(Bytes(4));
        ReadResult data = await pending;
        Assert.False(data.IsCompleted);
        body.AdvanceTo(data.Buffer.End);

        pending = body.ReadAsync();
        body.CompleteWriter();
        ReadResult end = await pending;
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    [Fact]
    public void TryReset_RefusesWhileAnEndIsOpen()
    {
        var body = new Http2StreamBody();
        body.Write(Bytes(4));
        Assert.False(body.TryReset()); // neither end completed

        body.CompleteWriter();
        Assert.False(body.TryReset()); // the reader has not completed

        body.Complete();
        Assert.True(body.TryReset());

        // Reused: a fresh body, nothing left of the old bytes.
        body.Write(Bytes(2, start: 50));
        Assert.True(body.TryRead(out ReadResult result));
        Assert.Equal(2, result.Buffer.Length);
        Assert.Equal((byte)50, result.Buffer.FirstSpan[0]);
    }

    [Fact]
    public void TryReset_RefusesWhileAReadIsPending()
    {
        var body = new Http2StreamBody();
        ValueTask<ReadResult> pending = body.ReadAsync();
        Assert.False(pending.IsCompleted);
        body.CompleteWriter();
        body.Complete();
        Assert.False(body.TryReset()); // both ends are done, but the read's awaiter has not taken its result
    }

    [Fact]
    public void WritesAfterTheReaderCompleted_AreDropped()
    {
        var body = new Http2StreamBody();
        body.Complete();
        body.Write(Bytes(100));
        body.CompleteWriter();
        Assert.True(body.TryReset());
    }

    [Fact]
    public async Task AReaderOnAnotherThread_SeesEveryByteOnce()
    {
        // The read loop writes under its lock while the consumer reads on another thread.
        var body = new Http2StreamBody();
        const int Frames = 2000;
        const int FrameSize = 777;
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < Frames; i++)
            {
                body.Write(Bytes(FrameSize, start: (byte)i));
            }

            body.CompleteWriter();
        });

        long seen = 0;
        long sum = 0;
        while (true)
        {
            ReadResult result = await body.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                foreach (byte b in segment.Span)
                {
                    sum += b;
                }
            }

            seen += result.Buffer.Length;
            body.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await writer;
        long expected = 0;
        for (int i = 0; i < Frames; i++)
        {
            for (int j = 0; j < FrameSize; j++)
            {
                expected += (byte)(i + j);
            }
        }

        Assert.Equal((long)Frames * FrameSize, seen);
        Assert.Equal(expected, sum);
    }
}
