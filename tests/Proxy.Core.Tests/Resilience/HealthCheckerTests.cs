using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Configuration;
using Proxy.Resilience;
using Proxy.Upstream;

namespace Proxy.Tests.Resilience;

public class HealthCheckerTests
{
    // Probes that must succeed or fail on their merits get a timeout no loaded test machine reaches (tests run in
    // parallel on two cores; a continuation can wait well over the default second for a thread).
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("HTTP/1.1 200 OK", true, 200)]
    [InlineData("HTTP/1.0 503", true, 503)]
    [InlineData("HTTP/1.1 204 \r", true, 204)]
    [InlineData("HTTP/2 200 OK", false, 0)]
    [InlineData("HTTP/1.1 2x0 OK", false, 0)]
    [InlineData("HTTP/1.1 200OK", false, 0)]
    public void ParseStatusLine_Forms(string line, bool ok, int status)
    {
        Assert.Equal(ok, HealthProbe.ParseStatusLine(Encoding.ASCII.GetBytes(line), out int parsed));
        if (ok)
        {
            Assert.Equal(status, parsed);
        }
    }

    [Fact]
    public void IsExpected_DefaultAny2xx_ElseListed()
    {
        Assert.True(new HealthProbe(new HealthCheckConfig()).IsExpected(204));
        Assert.False(new HealthProbe(new HealthCheckConfig()).IsExpected(301));
        var listed = new HealthProbe(new HealthCheckConfig { ExpectedStatuses = [200, 301] });
        Assert.True(listed.IsExpected(301));
        Assert.False(listed.IsExpected(204));
    }

    [Fact]
    public void Apply_Thresholds_FlipActiveHealth()
    {
        var health = new EndpointHealth(new Endpoint("a:1", new IPEndPoint(IPAddress.Loopback, 1)));
        var metrics = ClusterResilienceMetrics.Detached();
        var checker = new HealthChecker([health], new HealthCheckConfig { HealthyThreshold = 2, UnhealthyThreshold = 3 }, metrics);
        Assert.False(checker.Apply(health, HealthProbeResult.ConnectFailed));
        Assert.False(checker.Apply(health, HealthProbeResult.Timeout));
        Assert.True(checker.Apply(health, HealthProbeResult.UnexpectedStatus));
        Assert.False(health.Endpoint.IsHealthy);
        Assert.False(checker.Apply(health, HealthProbeResult.Healthy));
        Assert.True(checker.Apply(health, HealthProbeResult.Healthy));
        Assert.True(health.Endpoint.IsHealthy);
        Assert.Equal(2, metrics.HealthCheckSuccess.Value);
        Assert.Equal(2, metrics.HealthCheckFailure.Value);
        Assert.Equal(1, metrics.HealthCheckTimeout.Value);
        Assert.Equal(1, metrics.BecameUnhealthy.Value);
        Assert.Equal(1, metrics.BecameHealthy.Value);
    }

    [Fact]
    public async Task CheckAllAsync_RealHttpServer_HealthyThenUnhealthyWhenStopped()
    {
        using var server = new TinyHttpServer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        var endpoint = new Endpoint($"127.0.0.1:{server.Port}", new IPEndPoint(IPAddress.Loopback, server.Port));
        var health = new EndpointHealth(endpoint);
        var metrics = ClusterResilienceMetrics.Detached();
        var config = new HealthCheckConfig { Path = "/healthz", UnhealthyThreshold = 2, HealthyThreshold = 1, Timeout = Generous };
        await using var checker = new HealthChecker([health], config, metrics);

        await checker.CheckAllAsync();
        Assert.True(endpoint.IsHealthy);
        Assert.Equal(1, metrics.HealthCheckSuccess.Value);
        Assert.StartsWith("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:", server.LastRequest);

        server.Stop();
        await checker.CheckAllAsync();
        Assert.True(endpoint.IsHealthy);
        await checker.CheckAllAsync();
        Assert.False(endpoint.IsHealthy);
        Assert.Equal(2, metrics.HealthCheckFailure.Value);
    }

    [Fact]
    public async Task ProbeAsync_UnexpectedStatusAndGarbage()
    {
        using var unavailable = new TinyHttpServer("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        using var garbage = new TinyHttpServer("SSH-2.0-OpenSSH\r\n");
        var probe = new HealthProbe(new HealthCheckConfig { Timeout = Generous });
        Assert.Equal(HealthProbeResult.UnexpectedStatus, await probe.ProbeAsync(new IPEndPoint(IPAddress.Loopback, unavailable.Port), "x", default));
        Assert.Equal(HealthProbeResult.BadResponse, await probe.ProbeAsync(new IPEndPoint(IPAddress.Loopback, garbage.Port), "x", default));
    }

    [Fact]
    public async Task ProbeAsync_SilentServer_TimesOut()
    {
        using var silent = new TinyHttpServer(null);
        var probe = new HealthProbe(new HealthCheckConfig { Timeout = TimeSpan.FromMilliseconds(200) });
        Assert.Equal(HealthProbeResult.Timeout, await probe.ProbeAsync(new IPEndPoint(IPAddress.Loopback, silent.Port), "x", default));
    }

    [Fact]
    public async Task ProbeAsync_Tcp_ConnectDecides()
    {
        using var server = new TinyHttpServer(null);
        var probe = new HealthProbe(new HealthCheckConfig { Type = HealthCheckType.Tcp, Timeout = Generous });
        var address = new IPEndPoint(IPAddress.Loopback, server.Port);
        Assert.Equal(HealthProbeResult.Healthy, await probe.ProbeAsync(address, "x", default));
        server.Stop();
        Assert.Equal(HealthProbeResult.ConnectFailed, await probe.ProbeAsync(address, "x", default));
    }

    [Fact]
    public async Task Start_Timer_ProbesRepeatedly()
    {
        using var server = new TinyHttpServer("HTTP/1.1 200 OK\r\n\r\n");
        var health = new EndpointHealth(new Endpoint("h", new IPEndPoint(IPAddress.Loopback, server.Port)));
        var checker = new HealthChecker([health], new HealthCheckConfig { Interval = TimeSpan.FromMilliseconds(20) });
        checker.Start();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (checker.Rounds < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await checker.DisposeAsync();
        Assert.True(checker.Rounds >= 3);
    }

    /// <summary>A loopback server that answers each connection with a fixed response (or nothing) and closes.</summary>
    private sealed class TinyHttpServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly string? _response;
        private readonly List<Socket> _held = [];
        private volatile string _lastRequest = "";

        public TinyHttpServer(string? response)
        {
            _response = response;
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptLoopAsync();
        }

        public int Port { get; }

        public string LastRequest => _lastRequest;

        public void Stop() => _listener.Stop();

        public void Dispose()
        {
            _listener.Stop();
            lock (_held)
            {
                foreach (var socket in _held)
                {
                    socket.Dispose();
                }
            }
        }

        private async Task AcceptLoopAsync()
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                if (_response is null)
                {
                    lock (_held)
                    {
                        _held.Add(socket);
                    }

                    continue;
                }

                _ = AnswerAsync(socket);
            }
        }

        private async Task AnswerAsync(Socket socket)
        {
            using (socket)
            {
                var buffer = new byte[4096];
                int length = 0;
                while (length < buffer.Length)
                {
                    int read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                    if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
                    {
                        break;
                    }
                }

                _lastRequest = Encoding.ASCII.GetString(buffer, 0, length);
                await socket.SendAsync(Encoding.ASCII.GetBytes(_response!), SocketFlags.None);
                socket.Shutdown(SocketShutdown.Both);
            }
        }
    }
}
