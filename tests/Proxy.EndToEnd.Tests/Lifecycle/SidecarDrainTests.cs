using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Lifecycle;

/// <summary>
/// A drain as a sidecar must do it: every connection is asked to close after what it is doing (HTTP/1.1 answers
/// with <c>Connection: close</c>, idle keep-alive connections close at once, HTTP/2 gets GOAWAY), and for
/// <c>drain_time</c> the listeners keep accepting and serve new connections the same way (an app still shutting
/// down reaches its dependencies), then close.
/// </summary>
public class SidecarDrainTests
{
    private static string Config(string endpoint, string drainTime) => $$"""
        admin: { address: 127.0.0.1:0 }
        drain_time: {{drainTime}}
        drain_timeout: 30s
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - match: { path_prefix: / }
                cluster: backend
        clusters:
          - { name: backend, endpoints: [ {{endpoint}} ] }
        """;

    private const string Get5Bytes = "GET /bytes/5 HTTP/1.1\r\nHost: test\r\n\r\n";

    [Fact]
    public async Task Drain_Http1_IdleClosedAtOnce_InFlightAndNewConnectionsAnsweredWithConnectionClose()
    {
        await using var upstream = await KestrelUpstream.StartAsync("a", HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, "30s"));
        var address = proxy.Listener("web");

        using var idle = await TcpClientHelpers.ConnectAsync(address);
        await idle.SendAsync(Get5Bytes);
        var first = await idle.ReadExactlyAsync(ResponseLength(await PeekHeadAsync(idle)));
        Assert.DoesNotContain("connection: close", first, StringComparison.OrdinalIgnoreCase);

        using var busy = await TcpClientHelpers.ConnectAsync(address);
        await busy.SendAsync("GET /slow/1500 HTTP/1.1\r\nHost: test\r\n\r\n");
        await Task.Delay(300);

        Assert.Equal(202, (await proxy.Admin.PostAsync("/drain")).Status);

        // The idle keep-alive connection is closed at once, not after the drain timeout (30 s).
        Assert.Equal("", await idle.ReadToEndAsync(TimeSpan.FromSeconds(3)));

        // The request in flight is answered, with Connection: close, and its connection ends.
        var answer = await busy.ReadToEndAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 200", answer);
        Assert.Contains("connection: close", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("slow", answer);

        // A new connection during the drain window is served the same way.
        using var late = await TcpClientHelpers.ConnectAsync(address);
        await late.SendAsync(Get5Bytes);
        var lateAnswer = await late.ReadToEndAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 200", lateAnswer);
        Assert.Contains("connection: close", lateAnswer, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(503, (await proxy.Admin.GetAsync("/ready")).Status);
        Assert.False(proxy.Host.Drained.IsCompleted);
    }

    [Fact]
    public async Task Drain_Http2_OpenConnectionGetsGoAway_NewConnectionServedThenGoAway()
    {
        await using var upstream = await KestrelUpstream.StartAsync("a", HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, "30s"));
        using var open = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        open.Headers(1, open.RequestBlock("GET", "/hello"), endStream: true);
        await open.FlushAsync();
        Assert.Equal("200", (await open.ReadStreamAsync(1)).Status(0));

        Assert.Equal(202, (await proxy.Admin.PostAsync("/drain")).Status);
        var frames = await open.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway, TimeSpan.FromSeconds(5));
        Assert.Equal(Http2ErrorCode.NoError, frames[^1].ErrorCode);

        // Preface, SETTINGS and the request in one write, as clients send them.
        using var late = await RawHttp2Client.ConnectAsync(proxy.Listener("web"), flush: false);
        late.Headers(1, late.RequestBlock("GET", "/hello"), endStream: true);
        await late.FlushAsync();
        var events = await late.ReadStreamAsync(1);
        Assert.True(events.Ended);
        Assert.Equal("200", events.Status(0));
        Assert.Equal(Http2ErrorCode.NoError, events.GoAway);
    }

    [Fact]
    public async Task Drain_WindowEnds_ListenersCloseAndDrainCompletes()
    {
        await using var upstream = await KestrelUpstream.StartAsync("a", HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, "1s"));
        var address = proxy.Listener("web");

        Assert.Equal(202, (await proxy.Admin.PostAsync("/drain")).Status);
        using (var during = await TcpClientHelpers.ConnectAsync(address))
        {
            await during.SendAsync(Get5Bytes);
            Assert.StartsWith("HTTP/1.1 200", await during.ReadToEndAsync(TimeSpan.FromSeconds(10)));
        }

        await proxy.Host.Drained.WaitAsync(TimeSpan.FromSeconds(15));
        await Assert.ThrowsAsync<SocketException>(() => TcpClientHelpers.ConnectAsync(address));
    }

    /// <summary>Waits for a whole response head (without consuming it) and returns it.</summary>
    private static async Task<string> PeekHeadAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.Peek, deadline.Token);
            var text = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            if (text.Contains("\r\n\r\n"))
            {
                return text[..(text.IndexOf("\r\n\r\n") + 4)];
            }

            await Task.Delay(10, deadline.Token);
        }
    }

    /// <summary>Head plus content-length bytes.</summary>
    private static int ResponseLength(string head)
    {
        var line = head.Split("\r\n").First(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
        return head.Length + int.Parse(line[(line.IndexOf(':') + 1)..].Trim());
    }
}
