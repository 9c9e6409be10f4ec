using System.Buffers;
using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2HeaderBlockBufferTests
{
    [Fact]
    public void TryAppend_FragmentsUpToLimit_ThenRefuses()
    {
        var buffer = new Http2HeaderBlockBuffer(maxLength: 10, initialCapacity: 4);
        Assert.True(buffer.TryAppend(new ReadOnlySequence<byte>([1, 2, 3])));
        Assert.True(buffer.TryAppend(Http2TestData.Split([4, 5, 6, 7, 8, 9], 2)));
        Assert.False(buffer.TryAppend(new ReadOnlySequence<byte>([10, 11])));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, buffer.Block.ToArray());
        buffer.Reset();
        Assert.Equal(0, buffer.Length);
        Assert.True(buffer.TryAppend(new ReadOnlySequence<byte>(new byte[10])));
    }
}
