using Proxy.Http.Http2;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

/// <summary>
/// Sends the copy of a mirrored request (see <see cref="Filters.MirrorFilter"/>) to an endpoint of the mirror cluster,
/// fire-and-forget, for every client protocol alike, in the mirror cluster's own terms: HTTP/1.1 with
/// <c>Connection: close</c> on a connection of its own (TLS when the cluster has <c>tls</c>), or a stream on the
/// endpoint's multiplexed connections when the cluster speaks HTTP/2. The response is awaited and thrown away, so the
/// real request never waits for it.
/// </summary>
internal static class RequestMirror
{
    /// <summary>How long a mirrored request may take before it is dropped.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Starts sending <paramref name="head"/> (a complete bodiless HTTP/1.1 request) and returns at once.</summary>
    public static void SendHttp1(Endpoint endpoint, Cluster cluster, ReadOnlyMemory<byte> head) => _ = SendHttp1Async(endpoint, cluster, head);

    /// <summary>Starts sending <paramref name="headers"/> (a bodiless request) as a stream and returns at once.</summary>
    public static void SendHttp2(Endpoint endpoint, Http2ConnectionPool pool, Cluster cluster, Http2HeaderList headers) => _ = SendHttp2Async(endpoint, pool, cluster, headers);

    private static async Task SendHttp1Async(Endpoint endpoint, Cluster cluster, ReadOnlyMemory<byte> head)
    {
        UpstreamConnection? connection = null;
        try
        {
            connection = await Http1ServerConnection.ConnectAsync(endpoint, cluster, cluster.ConnectTimeout).ConfigureAwait(false);
            if (connection is null)
            {
                return; // counted by the connect; a shadow that fails is its own problem
            }

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
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException || ConnectionErrors.IsConnectionLoss(ex))
        {
            // A shadow that fails or hangs is its own problem; the real request never waits for it.
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private static async Task SendHttp2Async(Endpoint endpoint, Http2ConnectionPool pool, Cluster cluster, Http2HeaderList headers)
    {
        Http2Stream? stream = null;
        try
        {
            stream = await pool.OpenStreamAsync(endpoint, headers, endStream: true, cluster.ConnectTimeout, cluster.Metrics, cluster.Settings.TlsFor(endpoint)).ConfigureAwait(false);
            if (stream is not null)
            {
                // The response headers, then the stream is let go (reset when the body is still coming).
                await stream.HeadersReceived.AsTask().WaitAsync(Timeout).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is TimeoutException || Http2Connection.IsConnectionLoss(ex))
        {
            // A shadow that fails or hangs is its own problem; the real request never waits for it.
        }
        finally
        {
            if (stream is not null)
            {
                await stream.Connection.ReleaseStreamAsync(stream).ConfigureAwait(false);
            }
        }
    }
}
