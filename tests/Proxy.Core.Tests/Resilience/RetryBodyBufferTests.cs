using System.Buffers;
using System.IO.Pipelines;
using Proxy.Resilience;

namespace Proxy.Tests.Resilience;

public class RetryBodyBufferTests
{
    [Fact]
    public void Append_WithinLimit_KeepsBytesAcrossGrowth()
    {
        using var buffer = new RetryBodyBuffer();
        var data = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        Assert.True(buffer.Append(data.AsSpan(0, 3000)));
        Assert.True(buffer.Append(new ReadOnlySequence<byte>(data, 3000, 7000)));
        Assert.Equal(data, buffer.Buffered.ToArray());
        Assert.False(buffer.IsOverflowed);
    }

    [Fact]
    public void Append_OverLimit_OverflowsAndRefusesMore()
    {
        using var buffer = new RetryBodyBuffer(limit: 100);
        Assert.True(buffer.Append(new byte[60]));
        Assert.False(buffer.Append(new byte[41]));
        Assert.True(buffer.IsOverflowed);
        Assert.False(buffer.Append(new byte[1]));
        Assert.Equal(60, buffer.Length);
    }

    [Fact]
    public void Append_ExactlyDefaultLimit_Fits()
    {
        using var buffer = new RetryBodyBuffer();
        Assert.True(buffer.Append(new byte[RetryBodyBuffer.DefaultLimit]));
        Assert.False(buffer.Append(new byte[1]));
    }

    [Fact]
    public void Reset_AfterOverflow_ReadyForNextRequest()
    {
        var buffer = new RetryBodyBuffer(limit: 10);
        buffer.Append(new byte[11]);
        buffer.Reset();
        Assert.False(buffer.IsOverflowed);
        Assert.Equal(0, buffer.Length);
        Assert.True(buffer.Append("abc"u8));
        Assert.Equal("abc"u8.ToArray(), buffer.Buffered.ToArray());
    }

    [Fact]
    public async Task FillAsync_SmallBody_BuffersAllAndReplays()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("hello "u8.ToArray());
        await pipe.Writer.WriteAsync("world"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        using var buffer = new RetryBodyBuffer();
        Assert.True(await buffer.FillAsync(pipe.Reader));

        var replay = new ArrayBufferWriter<byte>();
        buffer.WriteTo(replay);
        buffer.WriteTo(replay);
        Assert.Equal("hello worldhello world"u8.ToArray(), replay.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task FillAsync_LargeBody_OverflowLeavesRestUnconsumed()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var body = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        await pipe.Writer.WriteAsync(body.AsMemory(0, 80));
        using var buffer = new RetryBodyBuffer(limit: 100);
        var fill = buffer.FillAsync(pipe.Reader).AsTask();
        await Task.Delay(10);
        await pipe.Writer.WriteAsync(body.AsMemory(80));
        await pipe.Writer.CompleteAsync();
        Assert.False(await fill);
        Assert.True(buffer.IsOverflowed);

        // The buffered prefix plus the rest of the reader is the whole body, so the first try can still be sent.
        var rest = await pipe.Reader.ReadAtLeastAsync(1000);
        var whole = buffer.Buffered.ToArray().Concat(rest.Buffer.ToArray()).ToArray();
        Assert.Equal(body, whole);
    }
}
