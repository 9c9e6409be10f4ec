using Pipelines.Sockets.Unofficial;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// Sends the copy of a mirrored request (see <see cref="RouteAdmission.MirrorTarget"/>) to an endpoint of the mirror
/// cluster, fire-and-forget, for HTTP/1.1 and HTTP/2 clients alike: the caller writes an HTTP/1.1 head with
/// <c>Connection: close</c>; its response is read and thrown away on a connection of its own, so the real request
/// never waits for it.
/// </summary>
internal static class RequestMirror
{
    /// <summary>How long a mirrored request may take before its connection is dropped.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Starts sending <paramref name="head"/> (a complete bodiless request) and returns at once.</summary>
    public static void Send(Endpoint endpoint, Cluster cluster, ReadOnlyMemory<byte> head) => _ = SendAsync(endpoint, cluster, head);

    private static async Task SendAsync(Endpoint endpoint, Cluster cluster, ReadOnlyMemory<byte> head)
    {
        SocketConnection? connection = null;
        try
        {
            connection = await Connector.ConnectAsync(endpoint, cluster.ConnectTimeout).ConfigureAwait(false);
            await connection.Output.WriteAsync(head).ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(Timeout);
            while (true)
            {
                var result = await connection.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
                connection.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is TimeoutException || ConnectionErrors.IsConnectionLoss(ex))
        {
            // A shadow that fails or hangs is its own problem; the real request never waits for it.
        }
        finally
        {
            connection?.Dispose();
        }
    }
}
