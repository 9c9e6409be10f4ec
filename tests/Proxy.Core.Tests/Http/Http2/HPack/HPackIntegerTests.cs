using System.Buffers;
using Proxy.Http.Http2.HPack;

namespace Proxy.Tests.Http.Http2.HPack;

public class HPackIntegerTests
{
    [Theory]
    [InlineData(10, 5, "0a")]           // C.1.1
    [InlineData(1337, 5, "1f9a0a")]     // C.1.2
    [InlineData(42, 8, "2a")]           // C.1.3
    [InlineData(30, 5, "1e")]
    [InlineData(31, 5, "1f00")]         // exactly 2^N-1 needs a continuation byte
    [InlineData(127, 7, "7f00")]
    [InlineData(255, 8, "ff00")]
    [InlineData(int.MaxValue, 5, "1fe0ffffff07")]
    [InlineData(int.MaxValue, 1, "01feffffff07")]
    public void TryEncode_AppendixC1AndEdges_MatchesBytes(int value, int prefix, string hex)
    {
        Span<byte> buffer = stackalloc byte[HPackInteger.MaxEncodedLength];
        Assert.True(HPackInteger.TryEncode(value, prefix, 0, buffer, out int written));
        Assert.Equal(hex, Convert.ToHexString(buffer[..written]).ToLowerInvariant());

        byte[] bytes = Convert.FromHexString(hex);
        Assert.Equal(OperationStatus.Done, HPackInteger.Decode(bytes, prefix, out int decoded, out int consumed));
        Assert.Equal(value, decoded);
        Assert.Equal(bytes.Length, consumed);

        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, HPackInteger.Decode(bytes.AsSpan(0, i), prefix, out _, out _));
        }
    }

    [Fact]
    public void TryEncode_KeepsFlagBitsAboveThePrefix()
    {
        Span<byte> buffer = stackalloc byte[6];
        Assert.True(HPackInteger.TryEncode(2, 7, 0x80, buffer, out int written));
        Assert.Equal(1, written);
        Assert.Equal(0x82, buffer[0]);
    }

    [Fact]
    public void Decode_IgnoresBitsAboveThePrefix()
    {
        Assert.Equal(OperationStatus.Done, HPackInteger.Decode([0xEA], 5, out int value, out _));
        Assert.Equal(10, value);
    }

    [Theory]
    [InlineData("1f80808080808000")] // overlong: a sixth continuation byte
    [InlineData("1fe1ffffff07")]     // 2^31 exactly
    [InlineData("1fffffffff0f")]     // far above 2^31-1
    public void Decode_Overflow_IsInvalidData(string hex)
    {
        Assert.Equal(OperationStatus.InvalidData, HPackInteger.Decode(Convert.FromHexString(hex), 5, out _, out _));
    }

    [Fact]
    public void TryEncode_DestinationTooSmall_ReturnsFalse()
    {
        Span<byte> buffer = stackalloc byte[2];
        Assert.False(HPackInteger.TryEncode(1337, 5, 0, buffer, out _));
        Assert.False(HPackInteger.TryEncode(1, 5, 0, [], out _));
    }
}
