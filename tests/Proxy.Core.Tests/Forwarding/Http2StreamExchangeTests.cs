using System.IO.Pipelines;
using Proxy.Forwarding;

namespace Proxy.Tests.Forwarding;

/// <summary>The response-head timeout of an HTTP/2 stream forwarded to an HTTP/1.1 upstream.</summary>
public class Http2StreamExchangeTests
{
    [Fact]
    public void DisarmTimeout_NoTimeout_False()
    {
        var exchange = new Http2StreamExchange();
        var pipe = new Pipe();
        exchange.ArmTimeout(pipe.Reader, null);
        Assert.False(exchange.DisarmTimeout());
    }

    [Fact]
    public async Task ArmTimeout_Fires_CancelsPendingReadThenDisarmTrue()
    {
        var exchange = new Http2StreamExchange();
        var pipe = new Pipe();
        exchange.ArmTimeout(pipe.Reader, TimeSpan.FromMilliseconds(30));
        var result = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCanceled);
        pipe.Reader.AdvanceTo(result.Buffer.Start);
        Assert.True(exchange.DisarmTimeout());
    }

    [Fact]
    public async Task DisarmTimeout_BeforeDeadline_NothingCancelledLater()
    {
        var exchange = new Http2StreamExchange();
        var pipe = new Pipe();
        exchange.ArmTimeout(pipe.Reader, TimeSpan.FromMilliseconds(30));
        Assert.False(exchange.DisarmTimeout());
        await Task.Delay(150);

        // A read after the wait ended sees data, not a stray cancellation.
        await pipe.Writer.WriteAsync("x"u8.ToArray());
        var result = await pipe.Reader.ReadAsync();
        Assert.False(result.IsCanceled);
        Assert.Equal(1, result.Buffer.Length);
    }

    [Fact]
    public async Task ArmTimeout_ReusedForNextWait_FiresAgain()
    {
        var exchange = new Http2StreamExchange();
        var first = new Pipe();
        exchange.ArmTimeout(first.Reader, TimeSpan.FromMilliseconds(20));
        Assert.False(exchange.DisarmTimeout());

        // The next request on the same object: a new reader, a new deadline.
        var second = new Pipe();
        exchange.ArmTimeout(second.Reader, TimeSpan.FromMilliseconds(40));
        var result = await second.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(result.IsCanceled);
        Assert.True(exchange.DisarmTimeout());
        Assert.False(first.Reader.TryRead(out _)); // the first reader was left alone
    }
}
