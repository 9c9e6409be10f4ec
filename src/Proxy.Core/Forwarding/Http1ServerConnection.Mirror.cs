using System.Buffers;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;
using Proxy.LoadBalancing;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>How long a mirrored request may take before its connection is dropped.</summary>
    private static readonly TimeSpan MirrorTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Sends a copy of the current (bodiless) request to a shadow cluster, fire-and-forget: its
    /// response is read and thrown away on its own connection, so it never delays the real one.
    /// The copy's head is built here (one allocation per mirrored request; mirroring is sampled).
    /// </summary>
    private void Mirror(Cluster cluster)
    {
        var endpoint = cluster.Pick(PickContext.None);
        if (endpoint is null)
        {
            return;
        }

        var head = new ArrayBufferWriter<byte>(_request.HeadLength + 512);
        WriteRequestHead(head, hasBody: false, connection: "close"u8);
        _ = SendMirrorAsync(endpoint, cluster, head.WrittenMemory);
    }

    private static async Task SendMirrorAsync(Endpoint endpoint, Cluster cluster, ReadOnlyMemory<byte> head)
    {
        SocketConnection? connection = null;
        try
        {
            connection = await Connector.ConnectAsync(endpoint.Address, cluster.ConnectTimeout).ConfigureAwait(false);
            await connection.Output.WriteAsync(head).ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(MirrorTimeout);
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
