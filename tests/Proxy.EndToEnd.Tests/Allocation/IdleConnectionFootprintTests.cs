using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Buffers;
using Proxy.EndToEnd.Tests.Http;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Transport;
using Xunit.Abstractions;

namespace Proxy.EndToEnd.Tests.Allocation;

/// <summary>
/// What an HTTP/1.1 keep-alive connection costs the proxy while it waits for its next request (issue 18: at most
/// 4 KB of RSS per idle connection): the managed objects it keeps alive, measured in-process as the live heap after a
/// full collection with N such connections open, minus what the N client sockets of the test cost themselves; and
/// no block of the buffer pool held by a waiting connection. bench/harness/idleconns.py measures the RSS of the
/// published binary beside HAProxy and nginx (docs/benchmarks.md, "Memory per idle keep-alive connection").
/// </summary>
[Collection(nameof(AllocationCollection))]
public class IdleConnectionFootprintTests(ITestOutputHelper output)
{
    private const int Connections = 500;

    /// <summary>
    /// Live managed bytes one idle HTTP/1.1 keep-alive connection may keep: a guard against growth, not issue 18's
    /// target. Measured here 6,069 before the socket senders were pooled and 5,200 to 5,800 after; 4 KB of RSS would
    /// need about 3,000 (docs/benchmarks.md, "Memory per idle keep-alive connection", says what remains and why).
    /// </summary>
    private const int AllowedLiveBytesPerConnection = 6400;

    /// <summary>
    /// Live bytes one idle connection of the transport alone may keep (socket, its two pipes and loops, a handler
    /// waiting to read), with the test's client socket (about 420 bytes). 3,752 when every connection kept its own
    /// socket sender, 3,200 to 3,300 with senders pooled per send.
    /// </summary>
    private const int AllowedTransportBytesPerConnection = 3500;

    private static readonly byte[] Request = "GET /idle HTTP/1.1\r\nHost: idle.test\r\n\r\n"u8.ToArray();

    [Fact]
    public async Task IdleKeepAliveConnections_KeepFewLiveBytesAndNoPoolBlock()
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        upstream.Listen(16);
        _ = ServeAsync(upstream);
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.LocalEndPoint!.ToString()!));
        var address = proxy.Listener("web");

        // Warm-up: first-use caches (routes, pools, code) are not per connection.
        Close(OpenIdle(address, 50));
        long clientBytes = MeasureClientSocketsAlone(Connections);

        await Task.Delay(200);
        long poolBefore = BlockMemoryPool.Shared.AllocatedBytes;
        long before = LiveBytes();
        var idle = OpenIdle(address, Connections);
        await Task.Delay(500); // every connection back to waiting for its next request
        long after = LiveBytes();
        long poolGrowth = BlockMemoryPool.Shared.AllocatedBytes - poolBefore;
        double perConnection = (double)(after - before - clientBytes) / Connections;
        int answered = idle.Take(5).Count(Exchange); // every one of them still answers
        Close(idle);
        await Task.Delay(1000);
        double left = (double)(LiveBytes() - before) / Connections;
        output.WriteLine($"{perConnection:F0} live bytes per idle connection ({clientBytes / Connections} per client socket taken off); "
            + $"pool grew {poolGrowth} bytes; {left:F0} live bytes per connection left a second after they closed");
        Assert.Equal(5, answered);
        Assert.True(perConnection <= AllowedLiveBytesPerConnection, $"an idle keep-alive connection keeps {perConnection:F0} live bytes; at most {AllowedLiveBytesPerConnection} are allowed");

        // A waiting connection holds no pool block: N connections that each read a request and wrote a response
        // needed a few blocks at a time (and the threads' caches keep a few), never one each.
        Assert.True(poolGrowth <= 32 * BlockMemoryPool.BlockSize, $"the buffer pool grew by {poolGrowth} bytes for {Connections} idle connections");
    }

    [Fact]
    public async Task IdleTransportConnections_KeepNoSocketSender()
    {
        await using var listener = new Listener("idle", new IPEndPoint(IPAddress.Loopback, 0), new AnswerEachRead(), new Counter(), new Logger(TextWriter.Null, LogLevel.Error));
        listener.Start();
        Close(OpenIdle(listener.LocalEndPoint, 50));
        await Task.Delay(200);
        long before = LiveBytes();
        var idle = OpenIdle(listener.LocalEndPoint, 1000);
        await Task.Delay(500);
        long after = LiveBytes();
        Close(idle);
        double perConnection = (double)(after - before) / idle.Count;
        output.WriteLine($"{perConnection:F0} live bytes per idle transport connection, client socket included");
        Assert.True(perConnection <= AllowedTransportBytesPerConnection, $"an idle connection of the transport keeps {perConnection:F0} live bytes; at most {AllowedTransportBytesPerConnection} are allowed");
    }

    /// <summary>Answers every read with a 2-byte response and waits for the next: the transport's part of a keep-alive connection.</summary>
    private sealed class AnswerEachRead : IConnectionHandler
    {
        public async Task HandleAsync(SocketPipe connection, Socket socket)
        {
            while (true)
            {
                var result = await connection.Input.ReadAsync();
                if (result.Buffer.IsEmpty && result.IsCompleted)
                {
                    return;
                }

                connection.Input.AdvanceTo(result.Buffer.End);
                await connection.Output.WriteAsync("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"u8.ToArray());
            }
        }
    }

    private static long LiveBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>What <paramref name="count"/> connected client sockets cost the test process, against a listener that never accepts.</summary>
    private static long MeasureClientSocketsAlone(int count)
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(count);
        long before = LiveBytes();
        var sockets = new List<Socket>(count);
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Connect((IPEndPoint)silent.LocalEndPoint!);
            sockets.Add(socket);
        }

        long after = LiveBytes();
        Close(sockets);
        return after - before;
    }

    private static List<Socket> OpenIdle(IPEndPoint address, int count)
    {
        var sockets = new List<Socket>(count);
        for (int i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
            socket.Connect(address);
            Assert.True(Exchange(socket), "the proxy answered 200");
            sockets.Add(socket);
        }

        return sockets;
    }

    /// <summary>One request and its 2-byte response, synchronously (a blocking client socket keeps no async state).</summary>
    private static bool Exchange(Socket socket)
    {
        socket.Send(Request);
        var buffer = new byte[4096];
        int filled = 0;
        while (true)
        {
            int read = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
            if (read == 0)
            {
                return false;
            }

            filled += read;
            string text = Encoding.ASCII.GetString(buffer, 0, filled);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0 && filled >= end + 4 + 2)
            {
                return text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
            }
        }
    }

    private static void Close(List<Socket> sockets)
    {
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    private static async Task ServeAsync(Socket listener)
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = AnswerAsync(connection);
        }
    }

    private static async Task AnswerAsync(Socket connection)
    {
        using var _ = connection;
        var buffer = new byte[4096];
        var pending = 0;
        try
        {
            while (true)
            {
                var read = await connection.ReceiveAsync(buffer.AsMemory(pending), SocketFlags.None);
                if (read == 0)
                {
                    return;
                }

                pending += read;
                int end;
                while ((end = buffer.AsSpan(0, pending).IndexOf("\r\n\r\n"u8)) >= 0)
                {
                    await connection.SendAsync("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"u8.ToArray(), SocketFlags.None);
                    buffer.AsSpan(end + 4, pending - end - 4).CopyTo(buffer);
                    pending -= end + 4;
                }
            }
        }
        catch (SocketException)
        {
        }
    }
}
