using System.Net;
using System.Net.Sockets;
using Proxy.Interception;

namespace Proxy.Tests.Interception;

public sealed class OriginalDestinationTests
{
    [Fact]
    public void Parse_SockaddrIn_AddressAndPort()
    {
        // AF_INET (2, host order), port 8080 (network order), 10.96.0.10, zero padding.
        byte[] sockaddr = [.. BitConverter.GetBytes((ushort)2), 0x1F, 0x90, 10, 96, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.96.0.10"), 8080), OriginalDestination.Parse(sockaddr));
    }

    [Fact]
    public void Parse_SockaddrIn6_AddressAndPort()
    {
        var address = IPAddress.Parse("fd00::1234");
        byte[] sockaddr = [.. BitConverter.GetBytes((ushort)10), 0x00, 0x50, 0, 0, 0, 0, .. address.GetAddressBytes(), 0, 0, 0, 0];
        Assert.Equal(new IPEndPoint(address, 80), OriginalDestination.Parse(sockaddr));
    }

    [Fact]
    public void Parse_TooShortOrUnknownFamily_Null()
    {
        Assert.Null(OriginalDestination.Parse([2, 0, 0]));
        Assert.Null(OriginalDestination.Parse([.. BitConverter.GetBytes((ushort)1), 0, 80, 1, 2, 3, 4]));
    }

    [Fact]
    public void TryGet_NotRedirectedSocket_Null()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptSocket();
        Assert.Null(OriginalDestination.TryGet(accepted));
    }
}
