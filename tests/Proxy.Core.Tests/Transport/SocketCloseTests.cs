using System.Net.Sockets;
using Proxy.Transport;

namespace Proxy.Tests.Transport;

public class SocketCloseTests
{
    [Fact]
    public async Task Close_IdleConnection_PeerSeesEndAndSocketIsReleased()
    {
        using var pair = await LoopbackPair.OpenAsync();

        SocketClose.Close(pair.Connection);

        Assert.Equal(0, await pair.ReadPeerToEndAsync());
        Assert.True(await pair.WaitForSocketClosedAsync());
    }

    [Fact]
    public async Task Close_WithBytesStillToSend_DeliversThemBeforeTheEnd()
    {
        using var pair = await LoopbackPair.OpenAsync();
        var tail = new byte[100_000];
        await pair.Connection.Output.WriteAsync(tail);

        SocketClose.Close(pair.Connection);

        Assert.Equal(tail.Length, await pair.ReadPeerToEndAsync());
        Assert.True(await pair.WaitForSocketClosedAsync());
    }

    [Fact]
    public async Task Close_WithUnreadInputFillingThePipe_StillReleasesTheSocket()
    {
        using var pair = await LoopbackPair.OpenAsync();

        // More than the pipe takes before pausing its writer: the receive loop waits on the pipe,
        // not on the socket, until the input is completed.
        var flood = new byte[1024 * 1024];
        _ = pair.Peer.SendAsync(flood, SocketFlags.None);
        await Task.Delay(100);

        SocketClose.Close(pair.Connection);

        Assert.True(await pair.WaitForSocketClosedAsync());
    }

    [Fact]
    public async Task Close_AfterThePeerClosed_ReleasesTheSocket()
    {
        using var pair = await LoopbackPair.OpenAsync();
        pair.Peer.Shutdown(SocketShutdown.Both);
        var result = await pair.Connection.Input.ReadAsync();
        Assert.True(result.IsCompleted);
        pair.Connection.Input.AdvanceTo(result.Buffer.End);

        SocketClose.Close(pair.Connection);

        Assert.True(await pair.WaitForSocketClosedAsync());
    }
}
