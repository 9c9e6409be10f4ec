using System.Net;
using System.Text;
using Proxy.LoadBalancing;

namespace Proxy.Tests.LoadBalancing;

public class XxHash64Tests
{
    // Reference values from the xxHash project's sanity checks (seed 0 unless given).
    [Theory]
    [InlineData("", 0UL, 0xEF46DB3751D8E999UL)]
    [InlineData("", 1UL, 0xD5AFBA1336A3BE4BUL)]
    [InlineData("a", 0UL, 0xD24EC4F1A98C6E5BUL)]
    [InlineData("abc", 0UL, 0x44BC2CF5AD770999UL)]
    [InlineData("asdf", 0UL, 0x415872F599CEA71EUL)]
    [InlineData("Call me Ishmael.", 0UL, 0x6D04390FC9D61A90UL)]
    [InlineData("Nobody inspects the spammish repetition", 0UL, 0xFBCEA83C8A378BF1UL)]
    public void Hash_ReferenceVector_Matches(string input, ulong seed, ulong expected) =>
        Assert.Equal(expected, XxHash64.Hash(Encoding.ASCII.GetBytes(input), seed));

    [Fact]
    public void HashKey_IPAddress_HashesNetworkBytes()
    {
        IPAddress v4 = IPAddress.Parse("10.1.2.3");
        IPAddress v6 = IPAddress.Parse("2001:db8::1");

        Assert.Equal(PickerHash.HashKey([10, 1, 2, 3]), PickerHash.HashKey(v4));
        Assert.Equal(PickerHash.HashKey(v6.GetAddressBytes()), PickerHash.HashKey(v6));
        Assert.NotEqual(PickerHash.HashKey(v4), PickerHash.HashKey(v4.MapToIPv6()));
    }

    [Fact]
    public void HashKey_ManyCalls_AllocatesNothing()
    {
        ReadOnlySpan<byte> header = "session-4f1b2c9e-8d7a-4e55-b3a1-0c6f9d2e7b11"u8;
        IPAddress client = IPAddress.Parse("192.168.10.20");
        ulong sink = PickerHash.HashKey(header) ^ PickerHash.HashKey(client);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            sink ^= PickerHash.HashKey(header) ^ PickerHash.HashKey(client);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0UL, sink | 1);
    }
}
