using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Http2;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// An upstream that answers 200 and then sends a body without end, a small piece every 20 ms, until the proxy stops
/// it: closes the connection (HTTP/1.1, chunked body) or resets the stream (HTTP/2). <see cref="Stopped"/> completes
/// then.
/// </summary>
internal sealed class DrippingUpstream : IAsyncDisposable
{
    private readonly IAsyncDisposable _server;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DrippingUpstream(Func<DrippingUpstream, (IAsyncDisposable, string)> start) => (_server, Address) = start(this);

    public string Address { get; }

    public Task Stopped => _stopped.Task;

    public static DrippingUpstream Start(string protocol) => protocol == "http2"
        ? new DrippingUpstream(self =>
        {
            var server = RawHttp2Upstream.Start(async exchange =>
            {
                await exchange.HeadersAsync(200, endStream: false);
                for (var i = 0; i < 1000 && !exchange.Reset.IsCompleted; i++)
                {
                    await exchange.DataAsync("drip\n"u8.ToArray(), endStream: false);
                    await Task.Delay(20);
                }

                self._stopped.TrySetResult();
            });
            return (server, server.Address);
        })
        : new DrippingUpstream(self =>
        {
            var server = ScriptedHttp1Upstream.Start(async exchange =>
            {
                try
                {
                    await exchange.SendAsync("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
                    for (var i = 0; i < 1000; i++)
                    {
                        await exchange.SendAsync("5\r\ndrip\n\r\n");
                        await Task.Delay(20);
                    }
                }
                catch (SocketException)
                {
                    self._stopped.TrySetResult(); // the proxy closed the connection
                }

                exchange.Close();
            });
            return (server, server.Address);
        });

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
