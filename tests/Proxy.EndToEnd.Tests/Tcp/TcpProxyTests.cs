using System.Net.Sockets;
using System.Security.Cryptography;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Tcp;

/// <summary>The L4 path end to end: a real client, the proxy, a real upstream, over loopback.</summary>
public class TcpProxyTests
{
    private static string Config(string upstreams, string extraListener = "", string connectTimeout = "1s") => $"""
        admin: {"{"} address: 127.0.0.1:0 {"}"}
        listeners:
          - name: tcp
            address: 127.0.0.1:0
            protocol: tcp
            cluster: backend
        {extraListener}
        clusters:
          - name: backend
            endpoints: [ {upstreams} ]
            connect_timeout: {connectTimeout}
        """;

    [Fact]
    public async Task Forward_EchoUpstream_RoundTripsAndCountsBytes()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(Config(echo.Address));

        using (var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp")))
        {
            await client.SendAsync("hello proxy\n");
            Assert.Equal("hello proxy", await client.ReadLineAsync());
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("", await client.ReadToEndAsync());
        }

        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value("proxy_listener_connections_closed_total{listener=\"tcp\"}") == 1));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_listener_connections_opened_total{listener=\"tcp\"}"));
        Assert.Equal(0, metrics.Value("proxy_listener_connections_active{listener=\"tcp\"}"));
        Assert.Equal(12, metrics.Value("proxy_tcp_received_bytes_total{listener=\"tcp\",cluster=\"backend\"}"));
        Assert.Equal(12, metrics.Value("proxy_tcp_sent_bytes_total{listener=\"tcp\",cluster=\"backend\"}"));
        Assert.Equal(1, metrics.Value("proxy_upstream_connections_total{cluster=\"backend\"}"));
        Assert.Equal(1, metrics.Value("proxy_tcp_connection_duration_milliseconds_count{listener=\"tcp\",cluster=\"backend\"}"));
    }

    [Fact]
    public async Task Forward_64MiBBothWays_ChecksumsMatch()
    {
        const int size = 64 * 1024 * 1024;
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(Config(echo.Address));
        using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));

        var payload = new byte[size];
        new Random(42).NextBytes(payload);
        var expected = SHA256.HashData(payload);

        var send = Task.Run(async () =>
        {
            for (var offset = 0; offset < size; offset += 256 * 1024)
            {
                await client.SendAsync(payload.AsMemory(offset, Math.Min(256 * 1024, size - offset)), SocketFlags.None);
            }

            client.Shutdown(SocketShutdown.Send);
        });

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[256 * 1024];
        long received = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        int read;
        while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            received += read;
        }

        await send;
        Assert.Equal(size, received);
        Assert.Equal(expected, hash.GetHashAndReset());
    }

    [Fact]
    public async Task Forward_ClientHalfCloses_UpstreamAnswerStillArrives()
    {
        await using var upstream = TcpUpstream.CountThenAnswer();
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address));
        using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));

        await client.SendAsync(new string('x', 100_000));
        client.Shutdown(SocketShutdown.Send); // FIN towards the upstream; our receive side stays open

        Assert.Equal("got 100000 bytes", await client.ReadToEndAsync());
    }

    [Fact]
    public async Task Forward_UpstreamDown_ClosesDownstreamAndCountsFailure()
    {
        var deadPort = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(Config($"127.0.0.1:{deadPort}"));
        using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));

        // The proxy closes the accepted connection once the upstream connect is refused.
        Assert.Equal("", await client.ReadToEndAsync(TimeSpan.FromSeconds(10)));

        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value("proxy_upstream_connect_failures_total{cluster=\"backend\",reason=\"refused\"}") == 1));
    }

    [Fact]
    public async Task Forward_IdleConnection_ClosedAfterIdleTimeout()
    {
        await using var echo = TcpUpstream.Echo();
        var extra = """
              - name: idle
                address: 127.0.0.1:0
                protocol: tcp
                cluster: backend
                idle_timeout: 1s
            """;
        await using var proxy = await RunningProxy.StartAsync(Config(echo.Address, extra));
        using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("idle"));
        await client.SendAsync("ping\n");
        Assert.Equal("ping", await client.ReadLineAsync());

        // Nothing moves now: within a few heartbeats the proxy closes both sides.
        var rest = await client.ReadToEndAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("", rest);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_listener_idle_timeouts_total{listener=\"idle\"}"));
    }

    [Fact]
    public async Task Forward_TwoEndpoints_RoundRobin()
    {
        await using var a = TcpUpstream.Named("a");
        await using var b = TcpUpstream.Named("b");
        await using var proxy = await RunningProxy.StartAsync(Config($"{a.Address}, {b.Address}"));

        var seen = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));
            seen.Add(await client.ReadLineAsync());
        }

        Assert.Equal(2, seen.Count(s => s == "a"));
        Assert.Equal(2, seen.Count(s => s == "b"));
    }
}
