using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>
/// Slowloris clients (headers one byte per second, never finished) beside normal load. The normal
/// clients must not suffer; once HTTP is served, the header timeout should close the slow ones.
/// </summary>
public sealed class SlowlorisScenario : IScenario
{
    /// <inheritdoc />
    public string Name => "slowloris";

    /// <inheritdoc />
    public string Description => "hundreds of connections trickling header bytes at 1 byte/s beside normal constant-rate load";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        string headerTimeout = context.Pick("3s", "5s");
        using var fixture = await ProxyFixture.StartAsync(context, Name, new ProxyConfigOptions { HeaderTimeout = headerTimeout }).ConfigureAwait(false);
        var (url, http) = await ListenerChoice.ChooseAsync(fixture, result).ConfigureAwait(false);

        int slowCount = context.Pick(100, 300);
        double rps = context.Pick(500, 1000);
        var duration = TimeSpan.FromSeconds(context.Pick(8, 30));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
        var endPoint = TargetUrl.ToEndPoint(url);
        var slow = new SlowClient[slowCount];
        for (int i = 0; i < slowCount; i++)
        {
            slow[i] = await SlowClient.OpenAsync(endPoint).ConfigureAwait(false);
        }

        var trickle = Task.Run(() => TrickleAsync(slow, stop.Token));
        var load = await OpenModelRunner.RunAsync(new Http1ConnectionFactory(url), new ConstantRateSchedule(rps, duration), 16,
            $"constant {rps}/s for {duration.TotalSeconds}s on 16 connections beside {slowCount} slowloris connections",
            cancellationToken: context.Cancellation).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await trickle.ConfigureAwait(false);
        result.Load = load;

        int closed = 0;
        var closeTimes = new List<double>();
        foreach (var client in slow)
        {
            if (client.ClosedAfter is { } after)
            {
                closed++;
                closeTimes.Add(after.TotalSeconds);
            }

            client.Dispose();
        }

        closeTimes.Sort();
        result.Measure("slowloris connections", slowCount.ToString());
        result.Measure("closed by the proxy", closeTimes.Count == 0
            ? "0"
            : $"{closed} (median after {closeTimes[closeTimes.Count / 2]:0.0}s; header_timeout {headerTimeout})");
        result.AddLoadThresholds(load, p99BoundMs: 50, maxErrorRate: 0.001, prefix: "normal clients ");
        result.Thresholds.Add(http
            ? Threshold.AtLeast("slowloris closed by header timeout", closed, slowCount, $" of {slowCount}")
            : Threshold.Skipped("slowloris closed by header timeout", $"{slowCount} of {slowCount}", $"{closed} of {slowCount}",
                "the header timeout applies to http listeners, which do not forward yet (tcp listener driven)"));
        return result;
    }

    /// <summary>Sends one more header byte on every open slow connection each second.</summary>
    private static async Task TrickleAsync(SlowClient[] clients, CancellationToken ct)
    {
        // A request head that never ends: a header value that keeps growing.
        byte[] head = "GET / HTTP/1.1\r\nHost: slowloris\r\nX-Slow: "u8.ToArray();
        int position = 0;
        while (!ct.IsCancellationRequested)
        {
            byte b = position < head.Length ? head[position] : (byte)'a';
            position++;
            foreach (var client in clients)
            {
                client.SendByte(b);
            }

            try
            {
                await Task.Delay(1000, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One slowloris connection: sends bytes on demand and notices when the peer closes it.</summary>
    private sealed class SlowClient : IDisposable
    {
        private readonly Socket _socket;
        private readonly long _opened = Stopwatch.GetTimestamp();

        private SlowClient(Socket socket)
        {
            _socket = socket;
            _ = WatchAsync();
        }

        public TimeSpan? ClosedAfter { get; private set; }

        public static async Task<SlowClient> OpenAsync(EndPoint endPoint)
        {
            var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(endPoint).ConfigureAwait(false);
            return new SlowClient(socket);
        }

        public void SendByte(byte b)
        {
            if (ClosedAfter is not null)
            {
                return;
            }

            try
            {
                _socket.Send([b]);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                MarkClosed();
            }
        }

        public void Dispose() => _socket.Dispose();

        private async Task WatchAsync()
        {
            var buffer = new byte[1024];
            try
            {
                // Any answer (a 408, say) followed by close, or a reset, means the proxy gave up on us.
                while (await _socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // A reset counts as closed too; a dispose at the end is ignored below.
            }

            MarkClosed();
        }

        private void MarkClosed()
        {
            if (ClosedAfter is null && _socket.SafeHandle is { IsClosed: false })
            {
                ClosedAfter = Stopwatch.GetElapsedTime(_opened);
            }
        }
    }
}
