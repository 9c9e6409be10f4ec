using System.Buffers;
using System.Text;
using Proxy.Http.Http2.HPack;

namespace Proxy.Tests.Http.Http2.HPack;

public class HPackHuffmanTests
{
    [Theory]
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]  // C.4.1
    [InlineData("no-cache", "a8eb10649cbf")]                      // C.4.2
    [InlineData("custom-key", "25a849e95ba97d7f")]                // C.4.3
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]            // C.4.3
    [InlineData("302", "6402")]                                   // C.6.1
    [InlineData("private", "aec3771a4b")]                         // C.6.1
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff")]
    [InlineData("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")]
    [InlineData("", "")]
    public void Encode_AppendixCStrings_MatchAndRoundTrip(string text, string hex)
    {
        byte[] source = Encoding.ASCII.GetBytes(text);
        byte[] expected = Convert.FromHexString(hex);
        Assert.Equal(expected.Length, HPackHuffman.GetEncodedLength(source));

        var encoded = new byte[expected.Length];
        Assert.True(HPackHuffman.TryEncode(source, encoded, out int written));
        Assert.Equal(expected, encoded[..written]);

        var decoded = new byte[source.Length];
        Assert.Equal(OperationStatus.Done, HPackHuffman.Decode(expected, decoded, out int decodedLength));
        Assert.Equal(text, Encoding.ASCII.GetString(decoded, 0, decodedLength));
    }

    [Theory]
    [InlineData((byte)'0', 0x0u, 5)]          // Appendix B codes, right-aligned, with their lengths
    [InlineData((byte)' ', 0x14u, 6)]
    [InlineData((byte)'a', 0x3u, 5)]
    [InlineData((byte)'Z', 0xfdu, 8)]
    [InlineData((byte)0, 0x1ff8u, 13)]
    [InlineData((byte)'\\', 0x7fff0u, 19)]
    [InlineData((byte)255, 0x3ffffeeu, 26)]
    [InlineData((byte)10, 0x3ffffffcu, 30)]
    public void TryEncode_SingleSymbol_MatchesAppendixBCode(byte symbol, uint code, int bits)
    {
        int length = (bits + 7) / 8;
        int padBits = length * 8 - bits;
        ulong padded = ((ulong)code << padBits) | ((1UL << padBits) - 1);
        var expected = new byte[length];
        for (int i = 0; i < length; i++)
        {
            expected[i] = (byte)(padded >> (8 * (length - 1 - i)));
        }

        var encoded = new byte[8];
        Assert.True(HPackHuffman.TryEncode([symbol], encoded, out int written));
        Assert.Equal(expected, encoded[..written]);

        var decoded = new byte[1];
        Assert.Equal(OperationStatus.Done, HPackHuffman.Decode(expected, decoded, out int decodedLength));
        Assert.Equal(1, decodedLength);
        Assert.Equal(symbol, decoded[0]);
    }

    [Fact]
    public void Decode_RandomBytes_RoundTrip()
    {
        var random = new Random(7541);
        for (int iteration = 0; iteration < 500; iteration++)
        {
            var source = new byte[random.Next(0, 300)];
            random.NextBytes(source);
            var encoded = new byte[HPackHuffman.GetEncodedLength(source)];
            Assert.True(HPackHuffman.TryEncode(source, encoded, out int written));
            Assert.Equal(encoded.Length, written);

            var decoded = new byte[source.Length];
            Assert.Equal(OperationStatus.Done, HPackHuffman.Decode(encoded, decoded, out int decodedLength));
            Assert.Equal(source, decoded[..decodedLength]);
        }
    }

    [Theory]
    [InlineData("ffffffff")]   // EOS (30 ones) followed by padding ones
    [InlineData("1fffffffff")] // 'a' then EOS
    [InlineData("1fff")]       // 'a' (00011) then 11 one bits of padding: longer than 7 bits
    [InlineData("18")]         // 'a' then padding 000: not all ones
    [InlineData("1e")]         // 'a' then padding 110
    [InlineData("ff")]         // 8 ones: padding longer than 7 bits with no symbol
    public void Decode_InvalidPaddingOrEos_IsInvalidData(string hex)
    {
        var destination = new byte[16];
        Assert.Equal(OperationStatus.InvalidData, HPackHuffman.Decode(Convert.FromHexString(hex), destination, out _));
    }

    [Fact]
    public void Decode_ValidSevenBitPadding_Accepted()
    {
        // '0' = 00000, then 111 -> 0x07; 'a' = 00011, then 111 -> 0x1f.
        var destination = new byte[4];
        Assert.Equal(OperationStatus.Done, HPackHuffman.Decode([0x07], destination, out int written));
        Assert.Equal("0", Encoding.ASCII.GetString(destination, 0, written));
        Assert.Equal(OperationStatus.Done, HPackHuffman.Decode([0x1f], destination, out written));
        Assert.Equal("a", Encoding.ASCII.GetString(destination, 0, written));
    }

    [Fact]
    public void Decode_DestinationTooSmall_Reported()
    {
        byte[] encoded = Convert.FromHexString("f1e3c2e5f23a6ba0ab90f4ff");
        var destination = new byte[5];
        Assert.Equal(OperationStatus.DestinationTooSmall, HPackHuffman.Decode(encoded, destination, out _));
    }
}
