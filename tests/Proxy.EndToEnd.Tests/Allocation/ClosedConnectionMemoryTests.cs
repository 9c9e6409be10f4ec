using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace Proxy.EndToEnd.Tests.Allocation;

/// <summary>
/// Issue 18: "RSS back within 10 MB of idle one minute after any of the benchmark loads". The published binary's
/// managed heap (<c>proxy_gc_heap_bytes</c>) after many idle keep-alive connections closed: the proxy allocates
/// nothing while they wait, so once the idle trimmer has collected with them open, only its weighing of the closed
/// connections (<see cref="Proxy.Buffers.IdleMemoryTrimmer"/>) brings another collection; before it, 10,000 such
/// connections left the process 50 MiB above idle for good (docs/benchmarks.md, "Memory per idle keep-alive connection").
/// </summary>
[Collection(nameof(AllocationCollection))]
public class ClosedConnectionMemoryTests(ITestOutputHelper output)
{
    private const int Connections = 2000;
    private static readonly byte[] Request = "GET /idle HTTP/1.1\r\nHost: idle.test\r\n\r\n"u8.ToArray();

    [SkippableFact]
    public async Task IdleConnectionsCollectedWhileOpen_AfterTheyClose_HeapComesBack()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        upstream.Listen(16);
        _ = ServeAsync(upstream);
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: / }, cluster: api } ]
            clusters:
              - { name: api, endpoints: [ {{upstream.LocalEndPoint}} ] }
            """, adminPort);
        var address = new IPEndPoint(IPAddress.Loopback, listenPort);
        double idle = await proxy.MetricAsync("proxy_gc_heap_bytes");

        var sockets = new List<Socket>(Connections);
        double open;
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
                sockets.Add(socket);
                socket.Connect(address);
                Assert.True(Exchange(socket), "the proxy answered 200");
            }

            // The trimmer collects once the process is quiet with the connections open (or the runtime did while they
            // opened): from then on nothing the proxy allocates would bring another collection.
            Assert.True(await EventuallyAsync(async () => await proxy.MetricAsync("proxy_gc_collections") > 0, TimeSpan.FromSeconds(40)),
                "a collection ran while the connections were open");
            open = await proxy.MetricAsync("proxy_gc_heap_bytes");
            output.WriteLine($"heap idle {idle / 1048576:F1} MiB, with {Connections} idle connections {open / 1048576:F1} MiB");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        double last = 0;
        // Most of it: pools keep a little per connection of the peak (async-method boxes, dictionary buckets).
        double bound = idle + (open - idle) / 2;
        bool back = await EventuallyAsync(async () => (last = await proxy.MetricAsync("proxy_gc_heap_bytes")) < bound, TimeSpan.FromSeconds(40));
        output.WriteLine($"heap after they closed {last / 1048576:F1} MiB");
        Assert.True(back, $"the managed heap stayed at {last / 1048576:F1} MiB after {Connections} idle connections closed ({idle / 1048576:F1} MiB idle, {open / 1048576:F1} MiB with them open)");
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(3000); // a scrape of /metrics allocates about 60 KiB: not too many of them
        }

        return await condition();
    }

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
