using System.Buffers;
using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// Sends a copy of the current (bodiless) request to a shadow cluster, fire-and-forget (<see cref="RequestMirror"/>).
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
        RequestMirror.Send(endpoint, cluster, head.WrittenMemory);
    }
}
