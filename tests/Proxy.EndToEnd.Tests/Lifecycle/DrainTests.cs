using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Lifecycle;

/// <summary>Drain: stop accepting, /ready turns 503, in-flight connections get the drain time.</summary>
public class DrainTests
{
    private static string Config(string endpoint, string drain) => $$"""
        admin: { address: 127.0.0.1:0 }
        drain_time: 0s
        drain_timeout: {{drain}}
        listeners:
          - { name: tcp, address: 127.0.0.1:0, protocol: tcp, cluster: backend }
        clusters:
          - { name: backend, endpoints: [ {{endpoint}} ] }
        """;

    [Fact]
    public async Task Drain_InFlightConnectionFinishes_NewOnesRefused_ReadyTurns503()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(Config(echo.Address, "30s"));
        var address = proxy.Listener("tcp");
        Assert.Equal(200, (await proxy.Admin.GetAsync("/ready")).Status);

        using var inFlight = await TcpClientHelpers.ConnectAsync(address);
        await inFlight.SendAsync("one\n");
        Assert.Equal("one", await inFlight.ReadLineAsync());

        var (status, _) = await proxy.Admin.PostAsync("/drain");
        Assert.Equal(202, status);
        Assert.Equal(503, (await proxy.Admin.GetAsync("/ready")).Status);

        // New connections are refused once the listener is closed.
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                using var late = await TcpClientHelpers.ConnectAsync(address);
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        }));

        // The in-flight connection keeps working during the drain.
        await inFlight.SendAsync("two\n");
        Assert.Equal("two", await inFlight.ReadLineAsync());
        Assert.False(proxy.Host.Drained.IsCompleted);

        inFlight.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await inFlight.ReadToEndAsync());
        await proxy.Host.Drained.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Drain_TimeoutPasses_RemainingConnectionsClosed()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(Config(echo.Address, "500ms"));
        using var stuck = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));
        await stuck.SendAsync("x\n");
        Assert.Equal("x", await stuck.ReadLineAsync());

        await proxy.Host.RequestShutdownAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(proxy.Host.ShutdownCompleted.IsCompleted);
        Assert.Equal("", await stuck.ReadToEndAsync(TimeSpan.FromSeconds(5)));
    }
}
