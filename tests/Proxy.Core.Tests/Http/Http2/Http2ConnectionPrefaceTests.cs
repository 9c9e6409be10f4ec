using System.Buffers;
using System.Text;
using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2ConnectionPrefaceTests
{
    [Fact]
    public void Bytes_AreTheRfcPreface()
    {
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Encoding.ASCII.GetString(Http2ConnectionPreface.Bytes));
        Assert.Equal(24, Http2ConnectionPreface.Length);
    }

    [Fact]
    public void TryRead_EveryPrefixAndSplit_NeedsMoreThenValid()
    {
        byte[] input = [.. Http2ConnectionPreface.Bytes, 0, 0, 0];
        for (int length = 0; length < 24; length++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input, 0, length));
            Assert.Equal(Http2PrefaceStatus.NeedMoreData, Http2ConnectionPreface.TryRead(ref reader));
            Assert.Equal(0, reader.Consumed);
        }

        for (int split = 0; split <= input.Length; split++)
        {
            var reader = new SequenceReader<byte>(Http2TestData.Split(input, split));
            Assert.Equal(Http2PrefaceStatus.Valid, Http2ConnectionPreface.TryRead(ref reader));
            Assert.Equal(24, reader.Consumed);
        }
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("PRI * HTTP/1.1")]
    [InlineData("X")]
    public void TryRead_OtherBytes_InvalidAsSoonAsTheyDiffer(string text)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(Http2PrefaceStatus.Invalid, Http2ConnectionPreface.TryRead(ref reader));
        Assert.Equal(0, reader.Consumed);
    }

    [Theory]
    [InlineData("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", true)]
    [InlineData("PRI * HTTP/2.0\r\nHost: a\r\n\r\n", true)]
    [InlineData("PRI * HTTP/2.", false)]
    [InlineData("PRI * HTTP/1.1\r\n\r\n", false)]
    [InlineData("PRI /x HTTP/1.1\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\n\r\n", false)]
    public void StartsLikePreface_OnlyTheFirstLineOfThePreface(string text, bool expected)
    {
        byte[] input = Encoding.ASCII.GetBytes(text);
        for (int split = 0; split <= input.Length; split++)
        {
            Assert.Equal(expected, Http2ConnectionPreface.StartsLikePreface(Http2TestData.Split(input, split)));
        }
    }

    [Fact]
    public void Write_WritesThePreface()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2ConnectionPreface.Write(output);
        Assert.Equal(Http2ConnectionPreface.Bytes.ToArray(), output.WrittenSpan.ToArray());
    }
}
