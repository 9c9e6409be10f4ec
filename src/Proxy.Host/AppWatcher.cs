using System.Net;
using System.Net.Sockets;
using Proxy.Observability;

namespace Proxy.Host;

/// <summary>
/// <c>--exit-when-app-gone</c>: a job's sidecar must not outlive the job. Once the application's
/// port has been seen accepting and then refuses connections, and no proxied connection is left,
/// the proxy drains and exits 0 (the second most common complaint of Istio and Linkerd users).
/// </summary>
public static class AppWatcher
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(500);

    public static async Task WatchAsync(IPEndPoint app, ProxyHost host, Logger log)
    {
        var seen = false;
        while (!host.ShutdownCompleted.IsCompleted)
        {
            await Task.Delay(Period).ConfigureAwait(false);
            if (await IsListeningAsync(app).ConfigureAwait(false))
            {
                if (!seen)
                {
                    log.Info("application is up", ("address", app));
                }

                seen = true;
                continue;
            }

            if (seen && host.Runtime.Connections.Count == 0)
            {
                log.Info("application gone and no connection left: shutting down", ("address", app));
                await host.RequestShutdownAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    private static async Task<bool> IsListeningAsync(IPEndPoint app)
    {
        using var socket = new Socket(app.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(app, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false; // refused: nobody listens
        }
        catch (OperationCanceledException)
        {
            return true; // no answer is not "gone": a busy app may be slow to accept
        }
    }
}
