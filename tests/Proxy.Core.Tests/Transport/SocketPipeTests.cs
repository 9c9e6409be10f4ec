using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Proxy.Tests.Transport;

public class SocketPipeTests
{
    [Fact]
    public async Task Output_ManySegmentsInOneFlush_ArriveInOrder()
    {
        using var pair = await LoopbackPair.OpenAsync();
        var payload = new byte[50_000]; // four 16 KiB pool blocks: the send loop gets a multi-segment sequence
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 7);
        }

        for (int offset = 0; offset < payload.Length; offset += 5_000)
        {
            pair.Connection.Output.Write(payload.AsSpan(offset, 5_000));
        }

        await pair.Connection.Output.FlushAsync();
        var received = new byte[payload.Length];
        int total = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (total < received.Length)
        {
            total += await pair.Peer.ReceiveAsync(received.AsMemory(total), SocketFlags.None, deadline.Token);
        }

        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task Input_BytesThenEndOfStream_ReadInOrderThenCompleted()
    {
        using var pair = await LoopbackPair.OpenAsync();
        await pair.Peer.SendAsync("hello, "u8.ToArray(), SocketFlags.None);
        await pair.Peer.SendAsync("world"u8.ToArray(), SocketFlags.None);
        pair.Peer.Shutdown(SocketShutdown.Send);

        var text = new List<byte>();
        while (true)
        {
            ReadResult result = await pair.Connection.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            text.AddRange(result.Buffer.ToArray());
            pair.Connection.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal("hello, world"u8.ToArray(), text.ToArray());
    }

    [Fact]
    public async Task Input_PeerResets_ReaderSeesConnectionReset()
    {
        using var pair = await LoopbackPair.OpenAsync();
        pair.Peer.LingerState = new LingerOption(true, 0); // close with RST
        pair.Peer.Close();

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (true)
            {
                ReadResult result = await pair.Connection.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                pair.Connection.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        });

        Assert.IsType<ConnectionResetException>(error);
    }

    [Fact]
    public async Task Output_Completed_SendLoopEndsAndPeerSeesEnd()
    {
        using var pair = await LoopbackPair.OpenAsync();
        await pair.Connection.Output.WriteAsync("bye"u8.ToArray());

        await pair.Connection.Output.CompleteAsync();
        await pair.Connection.Sent.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, await pair.ReadPeerToEndAsync());
    }

    [Fact]
    public async Task Dispose_UnderPendingReceive_ReadEnds()
    {
        using var pair = await LoopbackPair.OpenAsync();
        var read = pair.Connection.Input.ReadAsync().AsTask();

        pair.Connection.Dispose();

        // Shut down first, then closed: the receive sees the end of the stream, or an abort if the close wins.
        try
        {
            ReadResult result = await read.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.IsCompleted);
        }
        catch (ConnectionAbortedException)
        {
        }

        Assert.True(await pair.WaitForSocketClosedAsync());
    }
}
